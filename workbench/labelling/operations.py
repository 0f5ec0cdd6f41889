"""Changes to a session as undoable operations: each applies itself and reverts exactly.

The GUI's undo stack wraps these; the core tests call them directly. Build them
with the functions below, which check the request first and raise LabellingError.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from workbench.labelling.session import HUMAN, Label, LabellingError, LabelSession, Prediction, check_class_name


class Operation(ABC):
    """One change to a session; `text` names it for an Undo menu."""

    text: str = ""

    @abstractmethod
    def apply(self, session: LabelSession) -> None: ...

    @abstractmethod
    def revert(self, session: LabelSession) -> None: ...


class SetLabels(Operation):
    """Give each path its new label (None: clear it), remembering the old ones to revert."""

    def __init__(self, new: dict[str, Label | None], text: str) -> None:
        self.new = dict(new)
        self.old: dict[str, Label | None] = {}
        self.text = text

    def apply(self, session: LabelSession) -> None:
        self.old = {path: session.labels.get(path) for path in self.new}
        _assign(session, self.new)

    def revert(self, session: LabelSession) -> None:
        _assign(session, self.old)


def _assign(session: LabelSession, labels: dict[str, Label | None]) -> None:
    for path, label in labels.items():
        if label is None:
            session.labels.pop(path, None)
        else:
            session.labels[path] = label


class AddClass(Operation):
    def __init__(self, name: str) -> None:
        self.name = name
        self.text = f"Add class '{name}'"

    def apply(self, session: LabelSession) -> None:
        session.classes.append(self.name)

    def revert(self, session: LabelSession) -> None:
        session.classes.remove(self.name)


class RenameClass(Operation):
    """Renames a class everywhere: in the class list, its labels and its predictions."""

    def __init__(self, old: str, new: str) -> None:
        self.old_name, self.new_name = old, new
        self.text = f"Rename class '{old}' to '{new}'"

    def apply(self, session: LabelSession) -> None:
        _rename(session, self.old_name, self.new_name)

    def revert(self, session: LabelSession) -> None:
        _rename(session, self.new_name, self.old_name)


def _rename(session: LabelSession, old: str, new: str) -> None:
    session.classes[session.classes.index(old)] = new
    for path, label in list(session.labels.items()):
        if label.name == old:
            session.labels[path] = Label(new, label.source, label.confidence)
    for path, prediction in list(session.predictions.items()):
        if prediction.name == old:
            session.predictions[path] = Prediction(new, prediction.confidence)


class RemoveClass(Operation):
    """Removes a class with its labels and the predictions of it; reverting puts all of them back."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.text = f"Remove class '{name}'"
        self.position = 0
        self.labels: dict[str, Label] = {}
        self.predictions: dict[str, Prediction] = {}

    def apply(self, session: LabelSession) -> None:
        self.position = session.classes.index(self.name)
        self.labels = {p: label for p, label in session.labels.items() if label.name == self.name}
        self.predictions = {p: pred for p, pred in session.predictions.items() if pred.name == self.name}
        session.classes.remove(self.name)
        for path in self.labels:
            del session.labels[path]
        for path in self.predictions:
            del session.predictions[path]

    def revert(self, session: LabelSession) -> None:
        session.classes.insert(self.position, self.name)
        session.labels.update(self.labels)
        session.predictions.update(self.predictions)


# --- building operations (checks first) -----------------------------------------
def label_images(session: LabelSession, paths: list[str], name: str | None) -> SetLabels:
    """Label `paths` as class `name` by a person (None clears their labels)."""
    if name is not None and name not in session.classes:
        raise LabellingError(f"There is no class named '{name}'.")
    known = set(session.images)
    unknown = [p for p in paths if p not in known]
    if unknown:
        raise LabellingError(f"{unknown[0]} is not an image of this session.")
    count = len(paths)
    noun = f"{count} image{'s' if count != 1 else ''}"
    text = f"Clear the label of {noun}" if name is None else f"Label {noun} as '{name}'"
    return SetLabels({p: (Label(name, HUMAN) if name is not None else None) for p in paths}, text)


def add_class(session: LabelSession, name: str) -> AddClass:
    return AddClass(check_class_name(name, session.classes))


def rename_class(session: LabelSession, old: str, new: str) -> RenameClass:
    if old not in session.classes:
        raise LabellingError(f"There is no class named '{old}'.")
    return RenameClass(old, check_class_name(new, [c for c in session.classes if c != old]))


def remove_class(session: LabelSession, name: str) -> RemoveClass:
    if name not in session.classes:
        raise LabellingError(f"There is no class named '{name}'.")
    return RemoveClass(name)


def next_class_name(session: LabelSession) -> str:
    """'class 1', 'class 2', ...: the first such name not taken."""
    number = len(session.classes) + 1
    while f"class {number}" in session.classes:
        number += 1
    return f"class {number}"
