"""Loading a weights file (model.pt, a checkpoint, backbone weights) without running code from it.

`load_weights` reads the file through the bounded reader (files.py), then unpickles it
with torch's weights-only loader. What goes wrong is said in plain words: a file that
asks to import or call something is refused as unsafe; anything else that does not
load (zeros, a web page, a gzip, a cut-off download) is "not a weights file, or damaged".
torch's own advice (to turn the protection off) is never passed on.
"""

from __future__ import annotations

import io
import pickle
import pickletools
import re
import warnings
from typing import Any

from workbench.errors import WorkbenchError
from workbench.files import WEIGHTS_LIMIT, read_bytes

_GLOBAL = re.compile(r"GLOBAL ([\w.]+)")
# How saved weights begin: a zip archive (torch.save since 1.6) or a pickle (older torch.save).
_MAGICS = (b"PK\x03\x04", b"\x80")


def load_weights(path, error: type[WorkbenchError] = WorkbenchError, what: str = "weights file") -> Any:
    """The object saved in `path` (tensors, numbers, strings and containers only); else `error` in one sentence."""
    import torch

    try:
        data = read_bytes(path, WEIGHTS_LIMIT, error, what)
    except OSError as exc:
        raise error(f"Cannot read {path}: {exc.strerror or exc}.") from None
    damaged = f"{path} is damaged or not a {what}"
    if not data:
        raise error(f"{damaged} (it is empty).")
    if not data.startswith(_MAGICS):
        raise error(f"{damaged} (it does not begin as saved weights do{_looks_like(data)}).")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch warns about pickle protocols; the error says enough
            return torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        found = _GLOBAL.search(str(exc))
        wanted = found.group(1) if found else _imports_in_pickle(data)
        if wanted is not None:
            raise error(
                f"Refused to load {path}: it asks to run code{f' ({wanted})' if wanted else ''}, which could harm "
                f"this computer; only plain tensors and numbers are loaded. Use files from sources you trust."
            ) from None
        raise error(f"{damaged}.") from None
    except MemoryError:
        raise error(f"{path} is too large to load into memory.") from None
    except Exception:  # any other failure to parse: a damaged, cut-off or foreign file
        raise error(f"{damaged} (it may have been cut off while it was copied or downloaded).") from None


def _imports_in_pickle(data: bytes) -> str | None:
    """For a bare pickle that torch stopped reading early (at an opcode it does not know): the first thing it
    would import ('module.name', or '' when unnamed), or None when it imports nothing. Only parses, never runs."""
    if not data.startswith(b"\x80"):
        return None
    strings: list[str] = []
    try:
        for number, (opcode, argument, _) in enumerate(pickletools.genops(io.BytesIO(data))):
            if number > 1_000_000:
                return None
            if opcode.name in ("GLOBAL", "INST"):
                return str(argument).replace(" ", ".")
            if opcode.name == "STACK_GLOBAL":
                return ".".join(strings[-2:]) if len(strings) >= 2 else ""
            if isinstance(argument, str):
                strings.append(argument)
    except Exception:  # not a whole pickle: damaged, not an attack
        return None
    return None


def _looks_like(data: bytes) -> str:
    head = data[:512].lstrip().lower()
    if data.startswith(b"\x1f\x8b"):
        return "; it is gzip-compressed"
    if head.startswith((b"<!doctype", b"<html", b"<?xml")):
        return "; it is a web page, perhaps an error page saved instead of the download"
    if not data.strip(b"\0"):
        return "; it holds only zero bytes"
    return ""
