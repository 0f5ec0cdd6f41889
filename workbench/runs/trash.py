"""Deleting a run folder: into the system's trash (send2trash), and back out of it on an Undo.

A run is never removed for good here. Where the trash follows the freedesktop.org trash
specification (Linux and the like), the folder's place in the trash is found again from its
.trashinfo file, so the Runs page can offer Undo; elsewhere the person restores it from the
Trash or Recycle Bin as usual.
"""

from __future__ import annotations

import errno
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from workbench.errors import RunFolderError, WorkbenchError
from workbench.files import read_text
from workbench.runs.folder import describe_os_error
from workbench.runs.lock import RunLock, writer_of

INFO_LIMIT = 64 * 1024  # a .trashinfo is a few lines; a bigger one is not the one we wrote


@dataclass(frozen=True)
class Trashed:
    """A run folder moved to the trash: where it was, and where it lies now (None where that is not known)."""

    original: Path
    file: Path | None = None
    info: Path | None = None

    @property
    def restorable(self) -> bool:
        return self.file is not None and self.info is not None


def check_deletable(run_dir: str | os.PathLike, name: str, builtin: bool) -> None:
    """RunFolderError with one sentence when the run `name` in `run_dir` may not be deleted."""
    if builtin:
        raise RunFolderError(f"'{name}' ships with the workbench and cannot be deleted; it is read-only.")
    if not Path(run_dir).is_dir():
        raise RunFolderError(f"'{name}' is no longer at {run_dir}; refresh the list (F5).")
    writer = writer_of(run_dir)
    if writer is not None:
        raise RunFolderError(f"'{name}' is being trained now{f' (process {writer})' if writer else ''}; "
                             f"wait for it to finish or stop it, then delete it.")


def move_to_trash(run_dir: str | os.PathLike, name: str) -> Trashed:
    """Move the run folder to the system's trash. The run's lock is held meanwhile, so a run that is training is
    refused (with the reason) and no training can start in it half way. RunFolderError when it stays."""
    from send2trash import send2trash  # only when deleting: the rest of the workbench never needs it

    path = Path(os.path.abspath(run_dir))
    lock = RunLock(path, then="delete it")
    try:
        lock.acquire()
    except RunFolderError as exc:
        raise RunFolderError(f"'{name}' was not deleted: {_lowered(str(exc))}") from None
    try:
        send2trash(str(path))
    except OSError as exc:
        raise RunFolderError(f"'{name}' could not be moved to the trash ({describe_os_error(exc)}); "
                             f"it was left where it is, at {path}.") from None
    finally:
        lock.release()
    return Trashed(path, *_find_in_trash(path))


def restore(trashed: Trashed) -> None:
    """Put a trashed run folder back where it was; RunFolderError when it cannot be."""
    if not trashed.restorable:
        raise RunFolderError(f"{trashed.original.name} cannot be put back from here; restore it from the trash.")
    if trashed.original.exists() or trashed.original.is_symlink():
        raise RunFolderError(f"Something named {trashed.original.name} is at {trashed.original.parent} again; "
                             f"the run stays in the trash (as {trashed.file.name}).")
    if not trashed.file.exists():
        raise RunFolderError(f"{trashed.original.name} is no longer in the trash (emptied, or restored already).")
    try:
        try:
            os.rename(trashed.file, trashed.original)
        except OSError as exc:
            if exc.errno != errno.EXDEV:  # the trash is on another disk (send2trash copied it there)
                raise
            shutil.move(str(trashed.file), str(trashed.original))
    except OSError as exc:
        raise RunFolderError(f"{trashed.original.name} could not be put back ({describe_os_error(exc)}); "
                             f"it is still in the trash as {trashed.file.name}.") from None
    try:
        trashed.info.unlink()
    except OSError:
        pass  # the run is back; a stale entry only lists it in the trash's view until the trash is emptied


def _lowered(sentence: str) -> str:
    """A sentence to follow a colon: 'The run folder ...' -> 'the run folder ...'."""
    return sentence[:1].lower() + sentence[1:] if sentence[1:2].islower() else sentence


# --- finding it in a freedesktop.org trash ---------------------------------------
def _find_in_trash(original: Path) -> tuple[Path | None, Path | None]:
    """The trashed folder and its .trashinfo for `original`, the newest if it was trashed more than once."""
    if sys.platform in ("win32", "darwin"):
        return None, None
    best: tuple[str, Path, Path] | None = None
    for trash, topdir in _trash_folders(original):
        info_dir = trash / "info"
        try:
            candidates = [e for e in os.scandir(info_dir)
                          if e.name.startswith(original.name) and e.name.endswith(".trashinfo")]
        except OSError:
            continue
        for entry in candidates:
            recorded, date = _read_info(Path(entry.path))
            if recorded is None:
                continue
            where = recorded if os.path.isabs(recorded) else os.path.join(topdir, recorded)
            if os.path.abspath(where) != str(original):
                continue
            file = trash / "files" / entry.name[:-len(".trashinfo")]
            if (file.exists() or file.is_symlink()) and (best is None or date > best[0]):
                best = (date, file, Path(entry.path))
    return (best[1], best[2]) if best else (None, None)


def _trash_folders(original: Path) -> list[tuple[Path, str]]:
    """The trash folders that may hold `original`, each with the folder its recorded paths are relative to."""
    found: list[tuple[Path, str]] = []
    data_home = os.environ.get("XDG_DATA_HOME", "")
    data_home = data_home if os.path.isabs(data_home) else os.path.expanduser("~/.local/share")
    found.append((Path(data_home) / "Trash", data_home))
    try:
        from send2trash import plat_other  # where send2trash itself put it, if it read another XDG_DATA_HOME

        found.append((Path(os.fsdecode(plat_other.HOMETRASH_B)), os.fsdecode(plat_other.XDG_DATA_HOME)))
    except (ImportError, AttributeError):
        pass
    top = _mount_point(original.parent)
    uid = str(os.getuid()) if hasattr(os, "getuid") else ""
    found += [(Path(top) / ".Trash" / uid, top), (Path(top) / f".Trash-{uid}", top)]
    unique = []
    for trash, base in found:
        if all(trash != seen for seen, _ in unique):
            unique.append((trash, base))
    return unique


def _mount_point(path: Path) -> str:
    path = os.path.realpath(path)
    while not os.path.ismount(path):
        parent = os.path.dirname(path)
        if parent == path:
            break
        path = parent
    return path


def _read_info(path: Path) -> tuple[str | None, str]:
    """(Path=, DeletionDate=) of a .trashinfo file; (None, "") when it cannot be read."""
    try:
        text = read_text(path, INFO_LIMIT, what="trash entry")  # by type first: never blocks on a pipe
    except (OSError, WorkbenchError, UnicodeDecodeError):
        return None, ""
    recorded, date = None, ""
    for line in text.splitlines():
        if line.startswith("Path="):
            recorded = unquote(line[len("Path="):].strip())
        elif line.startswith("DeletionDate="):
            date = line[len("DeletionDate="):].strip()
    return recorded, date
