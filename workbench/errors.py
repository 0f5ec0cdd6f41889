"""Errors a person can read.

Every failure the user can cause (a wrong path, an unknown algorithm, a folder
that is not a run) is raised as a `WorkbenchError` whose message is one plain
sentence. The CLI prints it on one line; the GUI shows it in a dialog.
"""


class WorkbenchError(Exception):
    """A problem with the user's input or environment, explained in words."""


class DataError(WorkbenchError):
    """The data given cannot be used (missing path, no usable classes, ...)."""


class ConfigError(WorkbenchError):
    """A setting is unknown, has the wrong type, or is out of its range."""


class RunFolderError(WorkbenchError):
    """A folder that should hold a run does not, or holds a damaged one."""


class NonFiniteLossError(WorkbenchError):
    """Training produced a NaN or infinite loss; the update was not applied."""


class NameTakenError(ConfigError):
    """An algorithm or backbone registered under a name another one has (a built-in's above all)."""

    def __init__(self, kind: str, name: str, holder: str, message: str = "") -> None:
        super().__init__(message or f"The {kind} name '{name}' is taken by the {holder} one; "
                                    f"a plugin may add a {kind} but never replace one.")
        self.kind, self.name, self.holder = kind, name, holder
