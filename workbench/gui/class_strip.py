"""A strip of a class's first images, decoded on demand (only for the class being looked at)."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QListView, QListWidget, QListWidgetItem

from workbench.data.images import ImageDecodeError, decode_image
from workbench.data.sources import ClassEntry, read_many
from workbench.gui.qt_images import array_to_pixmap, placeholder_pixmap

THUMB_PIXELS = 64
MAX_THUMBS = 20  # decoding is on the GUI thread, so only a few images


class ThumbnailStrip(QListWidget):
    """Shows up to MAX_THUMBS images of one class; an unreadable image shows as a crossed tile
    whose tooltip says why."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setIconSize(QSize(THUMB_PIXELS, THUMB_PIXELS))
        self.setGridSize(QSize(THUMB_PIXELS + 10, THUMB_PIXELS + 10))
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setSelectionMode(QListWidget.SelectionMode.NoSelection)
        self.setUniformItemSizes(True)
        self.broken = 0

    def show_class(self, entry: ClassEntry | None) -> None:
        self.clear()
        self.broken = 0
        if entry is None:
            return
        # RGB so colour datasets look as they are; grayscale ones look the same either way.
        for ref, payload in read_many(entry.images[:MAX_THUMBS]):
            item = QListWidgetItem()
            try:
                if isinstance(payload, BaseException):
                    raise ImageDecodeError(f"cannot read file ({payload})")
                array = decode_image(payload, THUMB_PIXELS, 3)
            except ImageDecodeError as exc:
                item.setIcon(QIcon(placeholder_pixmap(THUMB_PIXELS)))
                item.setToolTip(f"{ref.display_path}\nCannot be used: {exc}")
                self.broken += 1
            else:
                item.setIcon(QIcon(array_to_pixmap(array, THUMB_PIXELS)))
                item.setToolTip(ref.display_path)
            item.setSizeHint(QSize(THUMB_PIXELS + 8, THUMB_PIXELS + 8))
            item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
            self.addItem(item)
