"""The full-size view of one image (double-click a thumbnail, or press Space): the image as large as
the screen allows, its label or prediction, and the arrow keys to walk to the neighbouring images."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QImageReader, QKeyEvent, QPixmap
from PySide6.QtWidgets import QDialog, QLabel, QVBoxLayout

from workbench.gui.labelling.grid_model import CONFIDENCE_ROLE, LABEL_ROLE, PATH_ROLE, PREDICTED_ROLE, SOURCE_ROLE

MAX_SIDE = 900  # pixels: large enough to see strokes, small enough for a 1024x700 screen with the caption
MIN_SIDE = 256  # tiny images (28 px glyphs) are scaled up, without smoothing, so their pixels stay sharp


def describe(index: QModelIndex) -> str:
    """"scan_007.png · labelled ring (by hand)" or "· predicted cross, 87%"."""
    name = Path(index.data(PATH_ROLE)).name
    label, source = index.data(LABEL_ROLE), index.data(SOURCE_ROLE)
    if label:
        how = "by hand" if source == "human" else "accepted prediction"
        return f"{name} · labelled <b>{label}</b> ({how})"
    predicted, confidence = index.data(PREDICTED_ROLE), index.data(CONFIDENCE_ROLE)
    if predicted:
        return f"{name} · predicted <b>{predicted}</b>, {confidence:.0%}"
    return f"{name} · not labelled"


class ImageViewer(QDialog):
    def __init__(self, view, absolute, parent=None) -> None:
        super().__init__(parent)
        self.view = view  # the grid whose images this walks through
        self.absolute = absolute  # the grid's path (relative to the labelling folder) -> the file
        self.setWindowTitle("Image")
        self.image = QLabel()
        self.image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.caption = QLabel()
        self.caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        hint = QLabel("← → the neighbouring images · Esc closes")
        hint.setObjectName("hint")
        hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout = QVBoxLayout(self)
        layout.addWidget(self.image, 1)
        layout.addWidget(self.caption)
        layout.addWidget(hint)
        self.index = QModelIndex()

    def show_index(self, index: QModelIndex) -> None:
        if not index.isValid():
            return
        self.index = index
        reader = QImageReader(self.absolute(index.data(PATH_ROLE)))
        reader.setAutoTransform(True)
        picture = reader.read()
        if picture.isNull():
            self.image.setPixmap(QPixmap())
            self.image.setText(f"This image cannot be shown: {reader.errorString()}.")
        else:
            side = max(picture.width(), picture.height())
            target = min(MAX_SIDE, max(MIN_SIDE, side))
            mode = Qt.TransformationMode.FastTransformation if side < MIN_SIDE else Qt.TransformationMode.SmoothTransformation
            self.image.setPixmap(QPixmap.fromImage(picture.scaled(target, target, Qt.AspectRatioMode.KeepAspectRatio, mode)))
        self.caption.setText(describe(index))
        self.view.setCurrentIndex(index)  # the grid follows, so closing leaves the person where they looked
        self.show()
        self.raise_()

    def step(self, by: int) -> None:
        model = self.view.model()
        row = self.index.row() + by
        if 0 <= row < model.rowCount():
            self.show_index(model.index(row, 0))

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt override)
        if event.key() in (Qt.Key.Key_Right, Qt.Key.Key_Down):
            self.step(1)
        elif event.key() in (Qt.Key.Key_Left, Qt.Key.Key_Up):
            self.step(-1)
        elif event.key() == Qt.Key.Key_Space:
            self.close()
        else:
            super().keyPressEvent(event)
