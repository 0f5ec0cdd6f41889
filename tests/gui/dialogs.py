"""Answer the window's modal dialogs the way a person does: wait for the dialog to show, then click
one of its buttons or choose a file in it. The answer is scheduled before the action that opens it."""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox


def answer_next_dialog(answer, timeout_s: float = 10.0) -> list:
    """Call `answer(dialog)` on the next modal dialog once it is shown; returns the dialogs answered
    (empty if none showed up in time, so a test can assert that it was, or was not, asked)."""
    answered: list = []
    deadline = time.monotonic() + timeout_s

    def poll() -> None:
        dialog = QApplication.activeModalWidget()
        if dialog is not None and dialog.isVisible():
            answered.append(dialog)
            answer(dialog)
        elif time.monotonic() < deadline:
            QTimer.singleShot(20, poll)

    QTimer.singleShot(0, poll)
    return answered


def click(button: QMessageBox.StandardButton):
    """An answer that clicks `button` of a QMessageBox with the mouse."""
    def answer(box) -> None:
        assert isinstance(box, QMessageBox), f"expected a message box, got {type(box).__name__}"
        answer.text = box.text() + "\n" + box.informativeText()
        QTest.mouseClick(box.button(button), Qt.MouseButton.LeftButton)
    answer.text = ""
    return answer


def choose(path: str | Path):
    """An answer that types `path` into a QFileDialog and accepts it."""
    def answer(dialog) -> None:
        assert isinstance(dialog, QFileDialog), f"expected a file dialog, got {type(dialog).__name__}"
        dialog.selectFile(str(path))
        dialog.accept()
    return answer


def key(qtbot, widget, key, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    """Press `key` on `widget` in its active window (window shortcuts fire only there; a modal
    dialog that just closed may have left no window active)."""
    window = widget.window()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    widget.setFocus()
    qtbot.keyClick(widget, key, modifier)


def press(*answers) -> list:
    """Answer several dialogs in a row, in order (e.g. Save in a message box, then a file name);
    returns the dialogs answered so far."""
    answered: list = []

    def step(index: int) -> None:
        if index < len(answers):
            def answer(dialog) -> None:
                answered.append(dialog)
                answers[index](dialog)
                step(index + 1)
            answer_next_dialog(answer)

    step(0)
    return answered
