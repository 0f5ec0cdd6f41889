"""The list of classes: shows each class's key, colour and count, and labels images dropped on it."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QColor, QDragEnterEvent, QDragMoveEvent, QDropEvent, QIcon, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QListWidget, QListWidgetItem

from workbench.gui.labelling.colors import class_color
from workbench.gui.labelling.grid_model import MIME_TYPE, paths_from_mime


def swatch(color: QColor, size: int = 14) -> QIcon:
    pixmap = QPixmap(size, size)
    pixmap.fill(color)
    return QIcon(pixmap)


class ClassList(QListWidget):
    """Rows "1  cat  (12)"; images dragged from the grid onto a row are labelled as that class.

    Emits `pathsDropped(class_name, paths)`; the page turns it into an undoable labelling.
    """

    pathsDropped = Signal(str, list)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setAcceptDrops(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DropOnly)
        self.setDropIndicatorShown(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.names: list[str] = []

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        """Five rows tall (Qt's default asks for 192 px): on a short screen the buttons below keep their room,
        and the list grows into whatever height is left."""
        return QSize(super().sizeHint().width(), self._rows_height(5))

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        return QSize(super().minimumSizeHint().width(), self._rows_height(3))

    def _rows_height(self, rows: int) -> int:
        row = max(self.sizeHintForRow(0), self.fontMetrics().height() + 4)
        return rows * row + 2 * self.frameWidth()

    def set_classes(self, names: list[str], counts: dict[str, int]) -> None:
        current = self.current_name()
        self.names = list(names)
        self.clear()
        for i, name in enumerate(names):
            key = f"{i + 1}" if i < 9 else "  "
            item = QListWidgetItem(swatch(class_color(i)), f"{key}   {name}   ({counts.get(name, 0)})")
            item.setData(Qt.ItemDataRole.UserRole, name)
            item.setToolTip(f"Drop images here to label them '{name}'" + (f", or select them and press {i + 1}." if i < 9 else "."))
            self.addItem(item)
            if name == current:
                self.setCurrentItem(item)

    def current_name(self) -> str | None:
        item = self.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item else None

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 (Qt override)
        if event.mimeData().hasFormat(MIME_TYPE):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:  # noqa: N802 (Qt override)
        if event.mimeData().hasFormat(MIME_TYPE) and self.itemAt(event.position().toPoint()) is not None:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 (Qt override)
        item = self.itemAt(event.position().toPoint())
        paths = paths_from_mime(event.mimeData())
        if item is None or not paths:
            event.ignore()
            return
        event.setDropAction(Qt.DropAction.CopyAction)
        event.accept()
        self.pathsDropped.emit(item.data(Qt.ItemDataRole.UserRole), paths)
