"""Keeping the Label page's labels: autosave a moment after each change, offer the autosave back when
the folder is opened again, and ask Save / Discard / Cancel before an unsaved session is replaced."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QMessageBox

from workbench.data.demo import user_data_dir
from workbench.errors import WorkbenchError
from workbench.gui.counted import counted
from workbench.gui.unsaved_guard import DISCARD, SAVE, ask_to_save
from workbench.labelling.session import LabelSession
from workbench.labelling.session_file import LoadedSession, load_session, save_session

AUTOSAVE_NAME = ".workbench-labels.json"  # hidden: the folder's image list skips it
AUTOSAVE_DELAY_MS = 1000


def autosave_paths(folder: str) -> list[Path]:
    """Where a folder's autosave may be: beside its images, else (a read-only folder) in the user's
    data folder under a name made from the folder's path."""
    key = hashlib.sha1(str(Path(folder).resolve()).encode("utf-8")).hexdigest()[:16]
    return [Path(folder) / AUTOSAVE_NAME, user_data_dir() / "label-autosave" / f"{key}.json"]


class SessionKeeper(QObject):
    """Makes sure the labels of `page.session` are never lost.

    `modified` is True while the session has changes no session file holds;
    `modifiedChanged` follows it. A change is written to the folder's autosave
    AUTOSAVE_DELAY_MS after the last edit (and at once by `flush`), so a crash
    loses at most that second. `confirm_replace` asks before a modified session
    is dropped; `offer_restore` offers an autosave when its folder is opened.
    """

    modifiedChanged = Signal(bool)

    def __init__(self, page) -> None:
        super().__init__(page)
        self.page = page
        self.last_autosave: Path | None = None
        self.restore_warnings: list[str] = []  # why the last folder opened could not get its autosave back
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(AUTOSAVE_DELAY_MS)
        self.timer.timeout.connect(self.flush)
        page.undo_stack.indexChanged.connect(lambda _index: self.timer.start())
        # The signal's own value: the stack may be on its way out when it sends it.
        page.undo_stack.cleanChanged.connect(lambda clean: self.modifiedChanged.emit(not clean))

    @property
    def modified(self) -> bool:
        return self.page.session is not None and not self.page.undo_stack.isClean()

    def flush(self) -> Path | None:
        """Write the autosave now (beside the images, else in the user's data folder)."""
        self.timer.stop()
        session = self.page.session
        if session is None:
            return None
        for path in autosave_paths(session.folder):
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                save_session(session, path)
            except (OSError, WorkbenchError):
                continue  # a read-only folder: the next place
            self.last_autosave = path
            return path
        self.page.banner.show_message("The labels could not be autosaved (neither in the folder nor in the "
                                      f"data folder {user_data_dir()}); save the session to keep them.", "warning")
        return None

    def forget(self, folder: str) -> None:
        """The person chose to discard this folder's labels: remove its autosave too."""
        for path in autosave_paths(folder):
            path.unlink(missing_ok=True)

    def confirm_replace(self, doing: str) -> bool:
        """True if the session may be replaced: it is saved, or the person saved or discarded it."""
        if not self.modified:
            return True
        session = self.page.session
        answer = ask_to_save(self.page, "Save the labels?",
                             f"The labels in {session.folder} have changes that are not saved in a session file.",
                             f"Save them before {doing}?")
        if answer == SAVE:
            return self.page.save_session()
        if answer == DISCARD:
            self.timer.stop()
            self.forget(session.folder)
            return True
        return False

    def offer_restore(self, session: LabelSession) -> LoadedSession | None:
        """If the folder of `session` has an autosave with labels or classes, ask whether to restore it.

        An autosave that cannot be read is moved aside (the next change would overwrite it) and named
        in `restore_warnings`; the folder opens without it.
        """
        self.restore_warnings = []
        for path in autosave_paths(session.folder):
            if not path.is_file():
                continue
            try:
                loaded = load_session(path)
            except WorkbenchError as exc:
                self.restore_warnings.append(_set_aside(path, exc))
                return None
            found = loaded.session
            if Path(found.folder).resolve() != Path(session.folder).resolve() or not (found.labels or found.classes):
                return None
            when = time.strftime("%Y-%m-%d %H:%M", time.localtime(path.stat().st_mtime))
            answer = QMessageBox.question(
                self.page, "Restore the labels?",
                f"This folder's labels were autosaved on {when}: {counted(len(found.labels), 'labelled image')} in "
                f"{counted(len(found.classes), 'class')}.\n\nRestore them?",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.Yes)
            return loaded if answer == QMessageBox.StandardButton.Yes else None
        return None


def _set_aside(path: Path, problem: WorkbenchError) -> str:
    """Rename an unreadable autosave so that no later autosave replaces it; the sentence saying so."""
    aside = path.with_name(path.name + ".unreadable")
    try:
        path.replace(aside)
    except OSError:
        aside = path
    return (f"The labels autosaved for this folder could not be read, so it opened without them "
            f"(the file is kept as {aside}): {problem}")
