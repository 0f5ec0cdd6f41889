"""A field's problem said in words under it: one red line, hidden until there is something to say.

Its colour comes from the theme's style sheet (QLabel#error), so that it stays readable in dark too."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel


def error_label() -> QLabel:
    label = QLabel()
    label.setObjectName("error")
    label.setWordWrap(True)
    label.hide()
    return label
