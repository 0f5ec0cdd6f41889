"""One colour per class, the same in the class list, the buttons and the thumbnail badges."""

from PySide6.QtGui import QColor

# Distinct, readable with white text (Tableau 10, darkened slightly).
_PALETTE = ("#1f6fb4", "#e0701a", "#2a9a3a", "#c8302f", "#8059b0", "#7f5147", "#c9579f", "#5f5f5f", "#9a9b1c", "#12a0b2")


def class_color(index: int) -> QColor:
    return QColor(_PALETTE[index % len(_PALETTE)]) if index >= 0 else QColor("#9e9e9e")
