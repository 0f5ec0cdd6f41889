"""Turning the workbench's uint8 image arrays into Qt images for display."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPen, QPixmap

from workbench.data.views import orient_array


def array_to_qimage(array: np.ndarray) -> QImage:
    """A (C, H, W) uint8 array with C = 1 (grayscale) or 3 (RGB) as a QImage that owns its pixels."""
    if array.ndim != 3 or array.shape[0] not in (1, 3):
        raise ValueError(f"expected a (1 or 3, H, W) array, got shape {array.shape}")
    height, width = array.shape[1:]
    if array.shape[0] == 1:
        pixels = np.ascontiguousarray(array[0], dtype=np.uint8)
        image = QImage(pixels.data, width, height, pixels.strides[0], QImage.Format.Format_Grayscale8)
    else:
        pixels = np.ascontiguousarray(array.transpose(1, 2, 0), dtype=np.uint8)
        image = QImage(pixels.data, width, height, pixels.strides[0], QImage.Format.Format_RGB888)
    # QImage only borrows the numpy buffer; copy so the image outlives it.
    return image.copy()


def array_to_pixmap(array: np.ndarray, size: int) -> QPixmap:
    """A square pixmap of `size` pixels showing the image (scaled smoothly, aspect kept)."""
    image = array_to_qimage(array)
    return QPixmap.fromImage(image).scaled(
        size, size, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
    )


def cache_pixmap(images, row: int, turns: int, size: int) -> QPixmap:
    """Row `row` of a cache tensor (M, C, S, S), seen through view `turns` (views.py) as training saw it."""
    item = images[row]
    array = item.numpy() if hasattr(item, "numpy") else np.asarray(item)
    # The same orientation as the sampler gave the model (quarter turns, mirroring).
    return array_to_pixmap(orient_array(array, turns), size)


def placeholder_pixmap(size: int, color: str = "#c62828") -> QPixmap:
    """A crossed-out tile standing in for an image that could not be decoded."""
    pixmap = QPixmap(size, size)
    pixmap.fill(QColor("#fbe9e7"))
    painter = QPainter(pixmap)
    painter.setPen(QPen(QColor(color), 2))
    painter.drawRect(1, 1, size - 2, size - 2)
    painter.drawLine(4, 4, size - 4, size - 4)
    painter.drawLine(size - 4, 4, 4, size - 4)
    painter.end()
    return pixmap
