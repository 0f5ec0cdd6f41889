"""The guard that keeps PySide6 6.12's stray reference drops from aborting the app on Python 3.11."""

import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.gui

STRESS = textwrap.dedent("""
    import os, sys
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    import workbench.gui  # installs the guard
    from PySide6.QtCore import QObject, Signal
    from PySide6.QtWidgets import QApplication, QWidget

    class Emitter(QObject):
        happened = Signal(object)

    class Painted(QWidget):
        def paintEvent(self, event):
            pass

    app = QApplication([])
    emitter = Emitter()
    emitter.happened.connect(lambda value: None)
    for i in range(50_000):  # each emit drops a reference to True in PySide6 6.12
        emitter.happened.emit(None)
    widget = Painted()
    widget.resize(20, 20)
    widget.show()
    for i in range(20_000):  # each Python paintEvent drops a reference to None
        widget.repaint()
    print("survived")
""")


def test_many_signals_and_repaints_do_not_abort_the_process():
    result = subprocess.run([sys.executable, "-c", STRESS], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "survived" in result.stdout


def test_guard_is_installed_where_needed():
    from workbench.gui import refcount_guard

    assert refcount_guard.install() == refcount_guard.needed()
    if refcount_guard.needed():
        assert sys.getrefcount(None) > refcount_guard.RESERVE
