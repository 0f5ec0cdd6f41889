"""Atomic file writes: a reader sees the old file or the new one, never half of one.

A written file gets the permissions the user's umask asks for (as a plain `open` would give), not
the private 600 of a temporary file, so a shared run folder stays readable. A target that exists
and is not a regular file (a device, a pipe) is never replaced: the write is refused. A link is written
through (its target replaced, the link kept). Temporary files carry the writer's pid, so the next write of
the same file removes what a killed writer left.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import stat

from workbench.errors import WorkbenchError
from workbench.files import kind_of


class UnsafeTargetError(WorkbenchError):
    """The file to write exists and is not a regular file (or is a folder): replacing it would do harm."""


def _read_umask() -> int:
    mask = os.umask(0)  # the only way to read it is to set it; set straight back, once, at import
    os.umask(mask)
    return mask


UMASK = _read_umask()
FILE_MODE = 0o666 & ~UMASK


def check_target(path: str | os.PathLike) -> None:
    """Refuse (UnsafeTargetError) a target that exists and is a folder, a device, a pipe or a socket."""
    try:
        info = os.stat(path)  # through links: /dev/stdout is a link to the terminal or pipe
    except (FileNotFoundError, NotADirectoryError):
        return
    if not stat.S_ISREG(info.st_mode):
        raise UnsafeTargetError(f"{path} is {kind_of(info.st_mode)}, not a file that can be replaced; "
                                f"choose a new file name to write to.")


def final_target(path: str | os.PathLike) -> Path:
    """The file a write to `path` should replace: a link's target, so that the link stays a link.

    Renaming over a link would swap the link itself for a regular file (`--out /dev/stdout` once
    replaced /dev/stdout that way, and nothing reached the file it pointed to).
    """
    target = Path(path)
    return Path(os.path.realpath(target)) if target.is_symlink() else target


def same_file_as_stream(path: str | os.PathLike, stream: Any) -> bool:
    """Whether `path` is the file `stream` writes to (`/dev/stdout`, `/dev/fd/1`, or its name)."""
    try:
        wanted, open_one = os.stat(path), os.fstat(stream.fileno())
    except (OSError, ValueError):
        return False
    return (wanted.st_dev, wanted.st_ino) == (open_one.st_dev, open_one.st_ino)


def _written_beside(target: Path, data: bytes) -> str:
    """`data` in a new temporary file in `target`'s folder, fsynced, with the umask's permissions: its path."""
    target.parent.mkdir(parents=True, exist_ok=True)
    _sweep_stale(target)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.{os.getpid()}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(fd, FILE_MODE)  # mkstemp makes it 600; the finished file gets what the umask allows
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException as exc:
        _remove(tmp)
        if isinstance(exc, OSError) and exc.filename is None:  # a failed write names no file: name the target
            raise OSError(exc.errno, exc.strerror, str(target)) from exc
        raise
    return tmp


def _sweep_stale(target: Path) -> None:
    """Remove the temporary files that a killed writer of `target` left (their name holds its pid)."""
    prefix = f".{target.name}."
    try:
        entries = [e.name for e in os.scandir(target.parent) if e.name.startswith(prefix) and e.name.endswith(".tmp")]
    except OSError:
        return
    for name in entries:
        pid = name[len(prefix):].split(".", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            _remove(target.parent / name)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # alive, someone else's
        return True
    return True


def _remove(path: str | os.PathLike) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _sync_folder(folder: Path) -> None:
    """Make renames and removals in `folder` durable."""
    try:
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError:
        pass


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> None:
    """Write to a temporary file in the same folder, fsync it, then rename over `path` (over its target
    when `path` is a link)."""
    check_target(path)
    target = final_target(path)
    tmp = _written_beside(target, data)
    try:
        os.replace(tmp, target)
    except BaseException:
        _remove(tmp)
        raise
    _sync_folder(target.parent)


def write_pair_atomic(main: str | os.PathLike, main_data: bytes, companion: str | os.PathLike,
                      companion_data: bytes) -> None:
    """Replace two files that belong together (a model and its class list) so that no moment, not even
    a SIGKILL, leaves a new one beside an old one: both are written aside first, then the old companion
    is removed, the main file renamed into place, and the companion last. A stop in between leaves a
    file without its companion, which a reader notices, never a pair that lies. Ctrl-C or an error in
    between removes the new main file too, so nothing half-done stays at `main`."""
    check_target(main)
    check_target(companion)
    main, companion = final_target(main), final_target(companion)
    staged = [_written_beside(main, main_data)]
    try:
        staged.append(_written_beside(companion, companion_data))
        with _folder_locked(main.parent):  # two writers of one pair would otherwise interleave their renames
            _remove_file(companion)
            _sync_folder(companion.parent)
            os.replace(staged[0], main)
            try:
                os.replace(staged[1], companion)
            except BaseException:
                _remove(main)
                raise
    finally:
        for tmp in staged:
            _remove(tmp)  # gone already when renamed
    _sync_folder(main.parent)
    if companion.parent != main.parent:
        _sync_folder(companion.parent)


@contextlib.contextmanager
def _folder_locked(folder: Path):
    """An exclusive flock on the folder itself for the few renames of a pair (no lock file left behind);
    where folders cannot be locked (Windows, some network mounts) the renames go on unlocked."""
    try:
        import fcntl

        fd = os.open(folder, os.O_RDONLY)
    except (ImportError, OSError):
        yield
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except OSError:
            pass
        yield
    finally:
        os.close(fd)  # closing releases the flock


def _remove_file(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass


def write_json_atomic(path: str | os.PathLike, data: Any) -> None:
    write_bytes_atomic(path, (json.dumps(data, indent=2, sort_keys=False) + "\n").encode("utf-8"))


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    write_bytes_atomic(path, text.encode("utf-8"))


def save_torch_atomic(path: str | os.PathLike, obj: Any) -> None:
    """torch.save to memory, then write atomically. Only tensors, numbers, strings and containers:
    the file must load with weights_only=True."""
    import torch  # here, not at the top: settings files are written by commands that never need torch

    buffer = io.BytesIO()
    torch.save(obj, buffer)
    write_bytes_atomic(path, buffer.getvalue())
