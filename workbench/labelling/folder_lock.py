"""One labeller per image folder: a lock held while a session on the folder is open.

Two windows labelling one folder would both autosave to the folder's one hidden session file,
and whichever wrote last would silently drop the other's labels. So the window that opens a
folder first takes an advisory `fcntl.flock` on a lock file beside the autosave; a second
window (in this process or another) cannot take it and is refused, keeping both windows' labels
whole. The operating system releases the lock when its holder closes it or dies in any way
(SIGKILL included), so a crashed window never leaves the folder locked. The file holds the
holder's process id only for the message. Where flock is missing (Windows) or a file system
refuses it (some network mounts), the lock does nothing, as the run folder's lock does.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from workbench.labelling.listing import resolved
from workbench.labelling.session import LabellingError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None

# Never through a link, never blocking on a pipe put in its place, never inherited by a child process.
_OPEN_FLAGS = (os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NONBLOCK", 0)
               | getattr(os, "O_NOFOLLOW", 0))


class FolderBusyError(LabellingError):
    """Another window (this process or another) holds the folder's labelling lock; `holder` is its process id."""

    def __init__(self, folder: str, holder: str) -> None:
        super().__init__(f"{folder} is being labelled in another window"
                         f"{f' (process {holder})' if holder else ''}.")
        self.folder = folder
        self.holder = holder


class LabelFolderLock:
    """The lock on labelling `folder`, taken at the first of `places` where a lock file can be made.

    `places` are tried in order, as the autosave's are: beside the images, else (a read-only
    folder) in the user's data folder. Every window gets the same list for a folder, so they
    meet at the same file.
    """

    def __init__(self, folder: str | os.PathLike, places: list[Path]) -> None:
        self.folder = str(resolved(folder))
        self.places = list(places)
        self.path: Path | None = None
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> "LabelFolderLock":
        """Take the lock; FolderBusyError when another window holds it. A folder where no lock file
        can be made anywhere is labelled unlocked (its autosave cannot be written there either)."""
        if fcntl is None or self._fd is not None:
            return self
        for place in self.places:
            try:
                place.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(place, _OPEN_FLAGS, 0o666)
            except OSError:
                continue  # a read-only folder: the next place
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                os.close(fd)  # a pipe or device planted under the lock's name is not ours to use
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _read_pid(fd)
                os.close(fd)
                raise FolderBusyError(self.folder, holder) from None
            except OSError as exc:
                os.close(fd)
                if exc.errno in (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL):
                    return self  # a file system without locks: go on unlocked
                continue
            try:
                os.ftruncate(fd, 0)
                os.write(fd, f"{os.getpid()}\n".encode())
            except OSError:
                pass  # the pid is only for the message; the lock itself is held
            self._fd, self.path = fd, place
            return self
        return self

    def release(self) -> None:
        # The file is left in place: removing it would let a third window lock a new file while a
        # second still waits on the old one, and two windows would hold "the" lock.
        if self._fd is not None:
            os.close(self._fd)  # closing releases the flock
            self._fd = None

    def __enter__(self) -> "LabelFolderLock":
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


def _read_pid(fd: int) -> str:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return ""
    return text if text.isdigit() else ""
