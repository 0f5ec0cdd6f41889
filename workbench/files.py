"""Reading the workbench's own files (JSON, CSV, weights) safely: by type first, then within a size bound.

Every settings, run, episode, project and session file, and every weights file, is
read through `read_bytes` (or `read_text` / `read_json`). A named pipe, device or
socket is refused from its type before it is opened, so it can never block the
reader or stream without end; a regular file larger than the bound given for its
kind is refused from its size, before any of it is read, so no file can exhaust
memory. Both refusals are one sentence naming the file (and the bound).
JSON is parsed by `parse_json` (which `read_json` uses), which refuses nesting
deeper than JSON_DEPTH_LIMIT as malformed JSON, so a hostile `[[[[...]]]]` gives the
reader's usual "not valid JSON" sentence instead of a RecursionError; so does a number of more
digits than Python converts (a ValueError otherwise).
"""

from __future__ import annotations

import json
import os
import stat
import sys
from typing import Any

from workbench.errors import WorkbenchError

MIB = 2**20
# Bounds per kind of file: far above what the workbench itself writes, far below what hurts.
SETTINGS_LIMIT = 16 * MIB  # config.json, status.json, session, project, plugin settings
EPISODES_LIMIT = 256 * MIB  # fixed-episode files: 10 000 episodes of 20 ways x 100 images are ~100 MiB
TABLE_LIMIT = 512 * MIB  # metrics.csv of a very long run
WEIGHTS_LIMIT = 8 * 1024 * MIB  # model.pt, checkpoints, backbone weights
# Far deeper than anything the workbench writes (a handful of levels), far shallower than what makes the
# parser, or the code that walks what it parsed, run out of stack.
JSON_DEPTH_LIMIT = 100

# Open flags: O_NONBLOCK so that a file swapped for a pipe after the check still cannot block;
# O_NOCTTY so that a terminal is never made ours.
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)


class UnreadableFileError(WorkbenchError):
    """A file that is refused before reading: not a regular file, or larger than its kind may be."""


def kind_of(mode: int) -> str:
    """What a non-regular file is, in words."""
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def size_text(size: int) -> str:
    return f"{size / MIB:.0f} MiB" if size >= MIB else f"{size} bytes"


def check_regular(path: str | os.PathLike, error: type[WorkbenchError] = UnreadableFileError,
                  what: str = "file") -> os.stat_result:
    """The stat of `path` (links followed) if it is a regular file; else `error` saying what it is.

    OSError (missing, no permission) passes through for the caller to word.
    """
    info = os.stat(path)
    if not stat.S_ISREG(info.st_mode):
        raise error(f"{path} is {kind_of(info.st_mode)}, not a {what}; it was not read.")
    return info


def read_bytes(path: str | os.PathLike, limit: int, error: type[WorkbenchError] = UnreadableFileError,
               what: str = "file") -> bytes:
    """The bytes of the regular file `path`, refused (as `error`) when it is of another type or over `limit` bytes.

    The type is checked before opening and again on the open file (it may have been swapped in
    between), and at most `limit` + 1 bytes are ever read (a file may grow while it is read).
    OSError passes through.
    """
    info = check_regular(path, error, what)
    if info.st_size > limit:
        raise error(_too_large(path, info.st_size, limit, what))
    fd = os.open(path, _OPEN_FLAGS)
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise error(f"{path} is {kind_of(os.fstat(fd).st_mode)}, not a {what}; it was not read.")
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise error(_too_large(path, len(data), limit, what))
    return data


def read_text(path: str | os.PathLike, limit: int = SETTINGS_LIMIT, error: type[WorkbenchError] = UnreadableFileError,
              what: str = "file") -> str:
    """`read_bytes` decoded as UTF-8 (UnicodeDecodeError passes through)."""
    return read_bytes(path, limit, error, what).decode("utf-8")


def read_json(path: str | os.PathLike, limit: int = SETTINGS_LIMIT, error: type[WorkbenchError] = UnreadableFileError,
              what: str = "file") -> Any:
    """`read_text` parsed by `parse_json` (UnicodeDecodeError and json.JSONDecodeError pass through)."""
    return parse_json(read_text(path, limit, error, what))


def parse_json(text: str) -> Any:
    """`json.loads`, refusing nesting deeper than JSON_DEPTH_LIMIT with json.JSONDecodeError, as malformed JSON is."""
    try:
        data = json.loads(text)
    except RecursionError:  # deeper than the interpreter's stack allows
        raise _too_deep(text) from None
    except json.JSONDecodeError:
        raise
    except ValueError:  # a number of more than 4300 digits: Python refuses to convert it
        raise json.JSONDecodeError(f"it holds a number of more than {sys.get_int_max_str_digits()} digits",
                                   text, 0) from None
    # Counting brackets first spares the walk for the (usual) files that cannot be too deep.
    if text.count("[") + text.count("{") > JSON_DEPTH_LIMIT and _deeper_than(data, JSON_DEPTH_LIMIT):
        raise _too_deep(text)
    return data


def _deeper_than(data: Any, limit: int) -> bool:
    """Whether lists and objects in `data` nest more than `limit` levels (walked level by level, without recursion)."""
    level, depth = [data] if isinstance(data, (dict, list)) else [], 0
    while level:
        depth += 1
        if depth > limit:
            return True
        level = [child for value in level for child in (value.values() if isinstance(value, dict) else value)
                 if isinstance(child, (dict, list))]
    return False


def _too_deep(text: str) -> json.JSONDecodeError:
    return json.JSONDecodeError(f"lists and objects nested more than {JSON_DEPTH_LIMIT} levels deep", text, 0)


def _too_large(path: str | os.PathLike, size: int, limit: int, what: str) -> str:
    return (f"{path} is {size_text(size)}, more than the {size_text(limit)} a {what} may be; "
            f"it was not read (is it the right file?).")
