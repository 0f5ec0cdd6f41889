"""Copying one image into a class folder so that a name there only ever holds a whole image.

The bytes go to a hidden temporary file in the same folder (`.<name>.<pid>-<n>.partial`), which is
flushed to disk; only then is the image given its final name, atomically and exclusively, by a
hard link, and the temporary name removed. A process killed mid-copy (SIGKILL, power cut) leaves
at most a hidden partial file: every image reader skips dot-names (`is_litter`), so it is never
taken for an image, and the next export into that folder removes it once its process is gone.
"""

from __future__ import annotations

import errno
import itertools
import os
import re
import shutil
import stat
from pathlib import Path

PARTIAL_SUFFIX = ".partial"
_PARTIAL = re.compile(r"^\..*\.(\d{1,10})-\d+\.partial$", re.DOTALL)
# link() failing with these means the file system has no hard links (FAT, exFAT, some shares), not that
# the name is taken or the disk is full: the copy then takes its name another way.
_NO_LINKS = {errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EXDEV, errno.EMLINK, errno.ENOSYS}
_SOURCE_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
_numbers = itertools.count(1)  # two copies in one process never share a temporary name


def copy_exclusive(source: Path, folder: Path, durable: bool = False) -> Path:
    """Copy `source` into `folder` under the first free name (img.png, img_2.png, ...); never overwrites.

    `durable`: the new name is on disk before returning (a move deletes the original next).
    """
    # 48 characters of the name: enough to recognise it, short enough to stay a legal file name.
    temp = folder / f".{source.name[:48]}.{os.getpid()}-{next(_numbers)}{PARTIAL_SUFFIX}"
    try:
        _write_copy(source, temp)
        destination = _take_free_name(temp, folder, source)
        if durable:
            _sync_folder(folder)
    finally:
        temp.unlink(missing_ok=True)  # linked (or moved) already, or a failed copy: never left behind
    return destination


def remove_dead_partials(folder: Path) -> list[Path]:
    """Remove the partial copies in `folder` whose export was killed (its process is gone); the paths removed.

    One whose process is alive is kept: it may be another export's copy in progress, and a hidden
    file is harmless. Process ids are per machine, so on a share that two machines export into at
    once, the other machine's copy may be removed; its export then lists that image as failed
    (the original is kept), never loses it.
    """
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        match = _PARTIAL.match(entry.name)
        if match is None or _alive(int(match[1])):
            continue
        try:
            if entry.is_file(follow_symlinks=False):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
        except OSError:
            continue  # another export removed it first, or no permission: it stays hidden and harmless
    return removed


def _write_copy(source: Path, temp: Path) -> None:
    # Non-blocking, and refused unless a regular file: a pipe named like an image must not hang the export.
    with os.fdopen(os.open(source, _SOURCE_FLAGS), "rb") as reader:
        info = os.fstat(reader.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise OSError(errno.EINVAL, "not a regular file")
        _check_room(temp.parent, info.st_size)
        try:
            writer = open(temp, "xb")
        except FileExistsError:  # left by a killed process that had this pid: no copy of anyone's in progress
            temp.unlink()
            writer = open(temp, "xb")
        with writer:
            # As large as it was when opened: a file that another process keeps appending to is never copied forever.
            shutil.copyfileobj(_Upto(reader, info.st_size), writer)
            writer.flush()
            os.fsync(writer.fileno())  # the bytes are on disk before any name promises a whole image
    shutil.copystat(source, temp)


def _check_room(folder: Path, size: int) -> None:
    """Refuse a copy larger than the free space of `folder`'s drive before writing any of it: a sparse file of
    terabytes named like an image would otherwise fill the drive (every other program's writes failing) first."""
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        return  # the drive cannot say: the copy itself will
    if size > free:
        raise OSError(errno.ENOSPC, f"it is {_gib(size)}, more than the {_gib(free)} free on the target drive")


def _gib(size: int) -> str:
    return f"{size / 2**30:,.1f} GiB"


class _Upto:
    """A reader that ends after `left` bytes."""

    def __init__(self, reader, left: int) -> None:
        self.reader, self.left = reader, left

    def read(self, size: int = -1) -> bytes:
        size = self.left if size is None or size < 0 else min(size, self.left)
        data = self.reader.read(size) if size else b""
        self.left -= len(data)
        return data


def _take_free_name(temp: Path, folder: Path, source: Path) -> Path:
    number = 1
    while True:
        destination = folder / (source.name if number == 1 else f"{source.stem}_{number}{source.suffix}")
        try:
            _claim(temp, destination)
        except FileExistsError:
            number += 1
            continue
        return destination


def _claim(temp: Path, destination: Path) -> None:
    """Give the complete copy `temp` the name `destination`; FileExistsError when the name is taken."""
    try:
        os.link(temp, destination)  # atomic, and fails rather than replace an existing file
        return
    except FileExistsError:
        raise
    except OSError as exc:
        if exc.errno not in _NO_LINKS:
            raise
    # No hard links here: take the name with an empty file made exclusively, then move the complete copy
    # over that file of our own. A kill between the two leaves an empty file, never a truncated image.
    os.close(os.open(destination, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o666))
    try:
        os.replace(temp, destination)
    except BaseException:
        destination.unlink(missing_ok=True)
        raise


def _sync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return  # Windows cannot open a folder; its renames are durable enough
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _alive(pid: int) -> bool:
    """Whether process `pid` runs on this machine; True when that cannot be told safely."""
    if pid == os.getpid():
        return True
    if os.name == "nt":  # os.kill there ends the process whatever the signal: never ask
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (OSError, OverflowError, ValueError):
        return True  # another user's process (no permission to signal it), or a number no pid can be
    return True
