"""A guard against a reference-counting bug of PySide6 6.12 that crashes the app on Python 3.11.

Measured here with PySide6-Essentials 6.12.0 on CPython 3.11.7: every
Python `Signal.emit()` drops one reference to `True` it never took, and every
call of a Python override of a C++ virtual (`paintEvent`, pyqtgraph's
`paint`, `event`) drops one reference to `None`. A training run with live
curves drops about 4,000 references to None a second; when a count reaches
zero, CPython aborts ("Fatal Python error: none_dealloc").

Python 3.12 made these singletons immortal, so the stray decrements do
nothing there. On older versions the guard gives None, True and False a
reserve of 2**40 references once: at 10,000 stray decrements a second that
lasts over three years. The reserve only keeps alive objects that live
forever anyway, so it is harmless where the bug is absent.
"""

from __future__ import annotations

import ctypes
import platform
import sys

RESERVE = 2**40
_installed = False


def needed() -> bool:
    """True where the singletons are mortal and their count sits at the object's start:
    a release (non-debug) CPython before 3.12."""
    return (
        platform.python_implementation() == "CPython"
        and sys.version_info < (3, 12)
        and not hasattr(sys, "gettotalrefcount")  # debug builds put other fields first
    )


def install() -> bool:
    """Add the reserve once per process; returns whether it was added (now or before)."""
    global _installed
    if _installed:
        return True
    if not needed():
        return False
    for singleton in (None, True, False):
        # ob_refcnt is the first field of every object in a release CPython < 3.12.
        count = ctypes.c_ssize_t.from_address(id(singleton))
        count.value += RESERVE
    _installed = True
    return True
