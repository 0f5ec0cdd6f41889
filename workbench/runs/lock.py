"""One writer per run folder: a lock that a second training, or a calibration, of the same run cannot take.

The lock is `fcntl.flock` on RUN/.writer.lock. The operating system releases it when the
holder closes it or dies in any way (SIGKILL, power cut of the process), so it never needs
cleaning up by hand; the file holds the holder's pid only for the message. Where flock is
missing (Windows) the lock does nothing.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from workbench.errors import RunFolderError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None

LOCK_NAME = ".writer.lock"
# Never through a link, never blocking on a pipe put in its place.
_OPEN_FLAGS = (os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NONBLOCK", 0)
               | getattr(os, "O_NOFOLLOW", 0))


class RunLockedError(RunFolderError):
    """Another process holds the run folder's lock."""


class RunLock:
    """Held while one process writes a run folder; `acquire` raises RunFolderError when another holds it."""

    def __init__(self, folder: str | os.PathLike, then: str = "resume") -> None:
        self.path = Path(folder) / LOCK_NAME
        self.then = then  # what the person may do once the holder is done, for the message
        self._fd: int | None = None

    def acquire(self) -> "RunLock":
        if fcntl is None or self._fd is not None:
            return self
        try:
            fd = os.open(self.path, _OPEN_FLAGS, 0o666)
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                os.close(fd)
                raise OSError(errno.EINVAL, f"{LOCK_NAME} is not a regular file")
        except OSError as exc:
            if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
                raise RunFolderError(f"The run folder {self.path.parent} cannot be written ({exc.strerror}); "
                                     f"copy it to a folder you can write, then {self.then} there.") from None
            raise RunFolderError(f"Cannot lock the run folder {self.path.parent}: {exc.strerror or exc}.") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_pid(fd)
            os.close(fd)
            raise RunLockedError(
                f"{self.path.parent} is being written by another training{f' (process {holder})' if holder else ''}; "
                f"wait for it to finish or stop it, then {self.then}."
            ) from None
        except OSError:  # a file system without locks (some network mounts): go on unlocked
            os.close(fd)
            return self
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing releases the flock
            self._fd = None

    def __enter__(self) -> "RunLock":
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


def writer_of(folder: str | os.PathLike) -> str | None:
    """The pid ("" when unknown) of the process writing the run folder now, or None when none is: the
    lock is tried shared, read-only, and let go at once, so a reader never creates or changes a file."""
    if fcntl is None:
        return None
    try:
        fd = os.open(Path(folder) / LOCK_NAME, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0))
    except OSError:  # no lock file: never trained by this version, or not a run
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return None
    except BlockingIOError:
        return _read_pid(fd)
    except OSError:
        return None
    finally:
        os.close(fd)


def _read_pid(fd: int) -> str:
    try:
        return os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return ""
