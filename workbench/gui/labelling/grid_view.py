"""The thumbnail grid: a list view in icon mode with a delegate that paints each image and its badge."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QKeyEvent, QPainter, QPen
from PySide6.QtWidgets import QAbstractItemView, QListView, QStyle, QStyledItemDelegate, QStyleOptionViewItem

from workbench.gui.qt_images import placeholder_pixmap
from workbench.gui.labelling.colors import class_color
from workbench.gui.labelling.grid_model import (
    BROKEN_ROLE,
    CLASS_INDEX_ROLE,
    CONFIDENCE_ROLE,
    LABEL_ROLE,
    PATH_ROLE,
    PREDICTED_ROLE,
    SOURCE_ROLE,
    SUSPECT_ROLE,
)
from workbench.labelling.session import ACCEPTED

THUMB = 72
CELL = QSize(THUMB + 24, THUMB + 40)
SUSPECT_COLOR = QColor("#bf360c")  # deep orange: white text on it reads at small sizes


class ThumbnailDelegate(QStyledItemDelegate):
    """Paints the thumbnail, the file name, and a badge: a filled one for a label (✓ if it was an
    accepted prediction), an outlined one with the confidence for a prediction; and over the top of
    a label that looks wrong, a warning with the class it looks like (⚠ round 93%)."""

    def sizeHint(self, option, index) -> QSize:  # noqa: N802 (Qt override)
        return CELL

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        painter.save()
        rect = option.rect.adjusted(2, 2, -2, -2)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        if selected:
            tint = QColor(option.palette.highlight().color())
            tint.setAlpha(70)  # see-through: a pale tint on a light base, a deep one on a dark base, text readable on both
            painter.fillRect(rect, tint)
            painter.setPen(QPen(option.palette.highlight().color(), 2))
            painter.drawRect(rect.adjusted(1, 1, -1, -1))
        image_rect = QRect(rect.left() + (rect.width() - THUMB) // 2, rect.top() + 4, THUMB, THUMB)
        pixmap = index.data(Qt.ItemDataRole.DecorationRole)
        if pixmap is not None:
            target = QRect(0, 0, pixmap.width(), pixmap.height())
            target.moveCenter(image_rect.center())
            painter.drawPixmap(target, pixmap)
        elif index.data(BROKEN_ROLE):
            painter.drawPixmap(image_rect, placeholder_pixmap(THUMB))
        else:
            painter.fillRect(image_rect, QColor("#eceff1"))  # still loading
        self._paint_badge(painter, index, image_rect)
        self._paint_suspect(painter, index, image_rect)
        name_rect = QRect(rect.left() + 2, image_rect.bottom() + 4, rect.width() - 4, 16)
        painter.setFont(option.font)  # the badge changed the font
        painter.setPen(option.palette.text().color())
        metrics = QFontMetrics(option.font)
        painter.drawText(name_rect, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop,
                         metrics.elidedText(index.data(Qt.ItemDataRole.DisplayRole) or "", Qt.TextElideMode.ElideMiddle,
                                            name_rect.width()))
        painter.restore()

    def _paint_badge(self, painter: QPainter, index: QModelIndex, image_rect: QRect) -> None:
        label, predicted = index.data(LABEL_ROLE), index.data(PREDICTED_ROLE)
        if label is None and predicted is None:
            return
        color = class_color(index.data(CLASS_INDEX_ROLE))
        if label is not None:
            text = ("✓ " if index.data(SOURCE_ROLE) == ACCEPTED else "") + label
        else:
            text = f"{predicted} {index.data(CONFIDENCE_ROLE):.0%}"
        font = QFont(painter.font())
        font.setPointSizeF(max(font.pointSizeF() - 1.5, 7.0))
        font.setBold(label is not None)
        painter.setFont(font)
        metrics = QFontMetrics(font)
        width = min(metrics.horizontalAdvance(text) + 10, image_rect.width() + 16)
        badge = QRect(image_rect.left() - 8, image_rect.bottom() - metrics.height() - 2, width, metrics.height() + 4)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if label is not None:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(color)
            painter.drawRoundedRect(badge, 4, 4)
            painter.setPen(QColor("white"))
        else:
            painter.setPen(QPen(color, 1.5))
            painter.setBrush(QColor(255, 255, 255, 230))
            painter.drawRoundedRect(badge, 4, 4)
            painter.setPen(color.darker(130))
        painter.drawText(badge, Qt.AlignmentFlag.AlignCenter,
                         metrics.elidedText(text, Qt.TextElideMode.ElideRight, badge.width() - 6))


    def _paint_suspect(self, painter: QPainter, index: QModelIndex, image_rect: QRect) -> None:
        suspect = index.data(SUSPECT_ROLE)
        if suspect is None:
            return
        text = f"⚠ {suspect.likely} {suspect.confidence:.0%}"
        font = QFont(painter.font())
        font.setPointSizeF(max(font.pointSizeF() - 1.5, 7.0))
        font.setBold(True)
        painter.setFont(font)
        metrics = QFontMetrics(font)
        width = min(metrics.horizontalAdvance(text) + 10, image_rect.width() + 16)
        # In the top right corner, as small as its text: the label badge has the bottom left, the image the rest.
        badge = QRect(image_rect.right() + 8 - width, image_rect.top() - 2, width, metrics.height() + 4)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(SUSPECT_COLOR)
        painter.drawRoundedRect(badge, 4, 4)
        painter.setPen(QColor("white"))
        painter.drawText(badge, Qt.AlignmentFlag.AlignCenter,
                         metrics.elidedText(text, Qt.TextElideMode.ElideMiddle, badge.width() - 6))


class ImageGrid(QListView):
    """Icon-mode list of thumbnails: multi-selection, drag to a class, number keys to label.

    Emits `numberPressed(n)` for keys 1-9 and `clearPressed()` for 0 / Backspace / Delete.
    """

    numberPressed = Signal(int)
    clearPressed = Signal()
    viewRequested = Signal(QModelIndex)  # double-click or Space: see the image full size

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setMovement(QListView.Movement.Static)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setUniformItemSizes(True)  # layout without asking every row: smooth with thousands
        self.setLayoutMode(QListView.LayoutMode.Batched)
        self.setBatchSize(500)
        self.setGridSize(CELL)
        self.setSpacing(0)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setDragEnabled(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.setDefaultDropAction(Qt.DropAction.CopyAction)
        self.setItemDelegate(ThumbnailDelegate(self))
        self.setWordWrap(False)
        self.doubleClicked.connect(self.viewRequested)

    def selected_paths(self) -> list[str]:
        return sorted(index.data(PATH_ROLE) for index in self.selectionModel().selectedIndexes())

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt override)
        key = event.key()
        plain = not (event.modifiers() & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier))
        if plain and Qt.Key.Key_1 <= key <= Qt.Key.Key_9:
            self.numberPressed.emit(key - Qt.Key.Key_0)
        elif plain and key in (Qt.Key.Key_0, Qt.Key.Key_Backspace, Qt.Key.Key_Delete):
            self.clearPressed.emit()
        elif plain and key == Qt.Key.Key_Space and self.currentIndex().isValid():
            self.viewRequested.emit(self.currentIndex())
        else:
            super().keyPressEvent(event)
