"""The window's page tabs, sized by the page on show: a wide page does not make every page (and so the
window) wide, so the window fits a 1024 x 700 screen on every page."""

from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtWidgets import QTabWidget


class PageTabs(QTabWidget):
    """A QTabWidget whose minimum size is that of the current page (Qt's is the largest page's)."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.currentChanged.connect(lambda _index: self.updateGeometry())

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        page = self.currentWidget()
        bar = self.tabBar().sizeHint()
        if page is None:
            return super().minimumSizeHint()
        inner = page.minimumSizeHint().expandedTo(page.minimumSize())
        return QSize(max(inner.width(), bar.width() // 2) + 8, inner.height() + bar.height() + 8)
