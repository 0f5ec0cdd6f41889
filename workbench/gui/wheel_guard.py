"""The mouse wheel over a number or choice box changes it only while the box has keyboard focus;
otherwise it scrolls the panel around the box. Scrolling a long settings column must never change a
value that happens to pass under the pointer."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QAbstractScrollArea, QAbstractSpinBox, QApplication, QComboBox, QWidget


class WheelGuard(QObject):
    """An event filter for spin boxes and combo boxes: an unfocused box passes the wheel to its scroll area."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if event.type() != QEvent.Type.Wheel or not isinstance(watched, QWidget) or watched.hasFocus():
            return False
        area = scroll_area_of(watched)
        if area is None:
            event.ignore()  # nothing to scroll: the value stays as it is
            return True
        # Qt does not pass a synthesized wheel event on to the parents, and a real one would reach the
        # area only through every widget between: sending it to the area's viewport scrolls it either way.
        viewport = area.viewport()
        position = QPointF(viewport.mapFromGlobal(event.globalPosition().toPoint()))
        QApplication.sendEvent(viewport, QWheelEvent(
            position, event.globalPosition(), event.pixelDelta(), event.angleDelta(), event.buttons(),
            event.modifiers(), event.phase(), event.inverted()))
        event.accept()
        return True


def scroll_area_of(widget: QWidget) -> QAbstractScrollArea | None:
    """The nearest scroll area that holds `widget` (not a box's own list)."""
    parent = widget.parentWidget()
    while parent is not None:
        if isinstance(parent, QAbstractScrollArea):
            return parent
        parent = parent.parentWidget()
    return None


def guard_wheel(root: QWidget) -> WheelGuard:
    """Every spin box and combo box inside `root` takes focus by click or Tab only (not by the wheel)
    and changes on the wheel only once focused."""
    guard = WheelGuard(root)
    boxes: list[QWidget] = [*root.findChildren(QAbstractSpinBox), *root.findChildren(QComboBox)]
    for box in boxes:
        box.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        box.installEventFilter(guard)
    return guard
