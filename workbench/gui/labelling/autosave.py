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
from workbench.labelling.folder_lock import FolderBusyError, LabelFolderLock
from workbench.labelling.listing import resolved
from workbench.labelling.session import LabelSession
from workbench.labelling.session_file import LoadedSession, load_session, save_session

AUTOSAVE_NAME = ".workbench-labels.json"  # hidden: the folder's image list skips it
AUTOSAVE_DELAY_MS = 1000


def autosave_paths(folder: str) -> list[Path]:
    """Where a folder's autosave may be: beside its images, else (a read-only folder) in the user's
    data folder under a name made from the folder's path."""
    key = hashlib.sha1(str(resolved(folder)).encode("utf-8")).hexdigest()[:16]
    return [Path(folder) / AUTOSAVE_NAME, user_data_dir() / "label-autosave" / f"{key}.json"]


def lock_places(folder: str) -> list[Path]:
    """Where a folder's labelling lock may be: beside each place of its autosave (.workbench-labels.lock)."""
    return [path.with_suffix(".lock") for path in autosave_paths(folder)]


def busy_message(exc: FolderBusyError) -> str:
    process = f" (process {exc.holder})" if exc.holder else ""
    return (f"This folder is being labelled in another window{process}, so it was not opened here; label it "
            f"there, or close it there and open it here again.")


class SessionKeeper(QObject):
    """Makes sure the labels of `page.session` are never lost.

    `modified` is True while the session has changes no session file holds;
    `modifiedChanged` follows it. A change is written to the folder's autosave
    AUTOSAVE_DELAY_MS after the last edit (and at once by `flush`), so a crash
    loses at most that second. `confirm_replace` asks before a modified session
    is dropped; `offer_restore` offers an autosave when its folder is opened.
    The autosave of a folder is written (or removed) only while `lock` holds that folder,
    so two windows never overwrite each other's labels.
    """

    modifiedChanged = Signal(bool)

    def __init__(self, page) -> None:
        super().__init__(page)
        self.page = page
        self.last_autosave: Path | None = None
        self.lock: LabelFolderLock | None = None  # the lock on labelling the session's folder
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
        if not self.holds(session.folder):  # a session set without opening its folder here
            lock = self.lock_for(session.folder, quiet=True)
            if lock is None:
                self.page.ui.banner.show_message("The labels were not autosaved: another window labels this folder "
                                                 "and autosaves there; save the session to keep them.", "warning")
                return None
            self.keep_lock(lock)
        for path in autosave_paths(session.folder):
            if path.is_symlink():  # written through, it would replace a file elsewhere (another session's labels)
                continue
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                save_session(session, path)
            except (OSError, WorkbenchError):
                continue  # a read-only folder: the next place
            self.last_autosave = path
            return path
        self.page.ui.banner.show_message("The labels could not be autosaved (neither in the folder nor in the "
                                         f"data folder {user_data_dir()}); save the session to keep them.", "warning")
        return None

    def forget(self, folder: str) -> None:
        """The person chose to discard this folder's labels: remove its autosave too (unless another
        window labels the folder: the autosave is then that window's)."""
        if not self.holds(folder):
            return
        for path in autosave_paths(folder):
            if not path.is_symlink():  # a link planted under the name is not this window's autosave
                path.unlink(missing_ok=True)

    def holds(self, folder: str) -> bool:
        return self.lock is not None and self.lock.folder == str(resolved(folder))

    def lock_for(self, folder: str, quiet: bool = False) -> LabelFolderLock | None:
        """The lock on labelling `folder`: the one held when it is this session's folder, else taken now.
        None when another window labels the folder (and, unless `quiet`, the banner says so)."""
        if self.holds(folder):
            return self.lock
        try:
            return LabelFolderLock(folder, lock_places(folder)).acquire()
        except FolderBusyError as exc:
            if not quiet:
                self.page.ui.banner.show_message(busy_message(exc), "warning")
            return None

    def keep_lock(self, lock: LabelFolderLock) -> None:
        """`lock` is the session's from now on; the last folder's change is written, then its lock let go."""
        if lock is self.lock:
            return
        if self.timer.isActive():
            self.flush()
        self.release_lock()
        self.lock = lock

    def drop_unused(self, lock: LabelFolderLock) -> None:
        """A lock taken for a folder that was not opened after all."""
        if lock is not self.lock:
            lock.release()

    def release_lock(self) -> None:
        if self.lock is not None:
            self.lock.release()
            self.lock = None

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
            if path.is_symlink() or not path.is_file():  # a link is never written (flush), so never this folder's
                continue
            try:
                # The folder opened, not the file's 'folder' field: a copied or tampered autosave could name
                # another folder (even '/'), and that one must never be walked or labelled from here.
                loaded = load_session(path, opened=session)
            except WorkbenchError as exc:
                self.restore_warnings.append(_set_aside(path, exc))
                return None
            found = loaded.session
            if not (found.labels or found.classes):
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
