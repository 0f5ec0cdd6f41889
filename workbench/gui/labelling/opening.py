"""Opening a folder or a session file on the Label page: one window labels a folder at a time.

The folder's labelling lock (labelling/folder_lock.py, held by the page's SessionKeeper) is taken
before the session on screen is replaced, so a folder another window labels is refused with the
current session left as it was; once the new session is shown, the old folder's lock is let go.
"""

from __future__ import annotations

from PySide6.QtWidgets import QFileDialog

from workbench.errors import WorkbenchError
from workbench.labelling.listing import left_out_note
from workbench.labelling.session import LabelSession
from workbench.labelling.session_file import SUFFIX, LoadedSession, load_session

SESSION_FILTER = f"Labelling sessions (*{SUFFIX});;JSON files (*.json)"


def open_folder(page, path: str | None = None) -> None:
    """Label the images of `path` (asks for it when None), offering its autosave back if it has one."""
    if path is None:
        path = QFileDialog.getExistingDirectory(page, "Open a folder of images to label", page.start_dir())
        if not path:
            return
    try:
        session = LabelSession.open_folder(path)
    except WorkbenchError as exc:
        page.ui.banner.show_message(str(exc), "error")
        return
    if not _switch_to(page, session.folder, "opening another folder"):
        return
    restored = page.keeper.offer_restore(session)  # the labels of a session that ended without saving
    if restored is not None:
        page.show_loaded(restored, None)
    else:
        page.session_path = None
        page.set_session(session, page.keeper.restore_warnings + left_out_note(session.folder, session.left_out))


def open_session(page, path: str | None = None) -> None:
    """Reopen a saved session file (asks for it when None)."""
    if path is None:
        path, _ = QFileDialog.getOpenFileName(page, "Open a labelling session", page.start_dir(), SESSION_FILTER)
        if not path:
            return
    try:
        loaded: LoadedSession = load_session(path)
    except WorkbenchError as exc:
        page.ui.banner.show_message(str(exc), "error")
        return
    if _switch_to(page, loaded.session.folder, "opening another session"):
        page.show_loaded(loaded, path)


def _switch_to(page, folder: str, doing: str) -> bool:
    """True once `folder` is locked for this page and the session on screen may go (saved or discarded)."""
    keeper = page.keeper
    lock = keeper.lock_for(folder)
    if lock is None:  # another window labels it: the banner says so, nothing here changes
        return False
    if not keeper.confirm_replace(doing):
        keeper.drop_unused(lock)
        return False
    keeper.keep_lock(lock)
    return True
