"""The mouse wheel over the settings scrolls them: a spin box or combo box under the pointer changes on
the wheel only once it has keyboard focus (clicked or tabbed to)."""

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication, QScrollArea

pytestmark = pytest.mark.gui

DOWN, UP = -120, 120


def wheel(widget, delta: int) -> None:
    """One notch of the wheel with the pointer over the middle of `widget`."""
    centre = QPointF(widget.rect().center())
    event = QWheelEvent(centre, QPointF(widget.mapToGlobal(centre.toPoint())), QPoint(), QPoint(0, delta),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(widget, event)


def value_of(box):
    return box.currentIndex() if hasattr(box, "currentIndex") else box.value()


def settings_scroll(window) -> QScrollArea:
    area = window.ui.settings_form.parentWidget().parentWidget()
    assert isinstance(area, QScrollArea)
    return area


def scrolls_not_changes(qtbot, area, box) -> None:
    """With the focus elsewhere, a notch over `box` moves the panel and leaves the box's value."""
    area.ensureWidgetVisible(box)
    bar = area.verticalScrollBar()
    assert bar.maximum() > 0, "the settings must be taller than the window for this test"
    before, position = value_of(box), bar.value()
    delta = DOWN if position < bar.maximum() else UP
    wheel(box, delta)
    assert value_of(box) == before, f"{box.objectName() or type(box).__name__} changed on the wheel without focus"
    assert bar.value() != position, "the panel did not scroll"


def test_the_wheel_scrolls_the_settings_instead_of_changing_the_box_under_the_pointer(window, qtbot):
    window.resize(1024, 700)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    window.tabs.setCurrentWidget(window.training_page)
    area = settings_scroll(window)
    protocol, form = window.protocol_panel, window.algorithm_panel.form
    boxes = [protocol.val_episodes, protocol.purpose, protocol.steps, form.editors["lr"], form.editors["distance"],
             window.algorithm_panel.combo]
    for box in boxes:
        window.tabs.setFocus()
        assert not box.hasFocus()
        scrolls_not_changes(qtbot, area, box)
        assert box.focusPolicy() == Qt.FocusPolicy.StrongFocus  # the wheel does not give it focus either
    # Clicked into, a number box takes the wheel: that is how a person asks for it.
    episodes = protocol.val_episodes
    area.ensureWidgetVisible(episodes)
    qtbot.mouseClick(episodes, Qt.MouseButton.LeftButton, pos=episodes.rect().center())
    assert episodes.hasFocus()
    before = episodes.value()
    wheel(episodes, UP)
    assert episodes.value() == before + episodes.singleStep()
    # Tabbed to, a choice box takes it too.
    purpose = protocol.purpose
    area.ensureWidgetVisible(purpose)
    purpose.setFocus(Qt.FocusReason.TabFocusReason)
    index = purpose.currentIndex()
    wheel(purpose, DOWN if index == 0 else UP)
    assert purpose.currentIndex() != index


def test_the_wheel_over_the_label_pages_threshold_scrolls_its_side_column(window, qtbot):
    window.resize(1024, 700)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    page = window.label_page
    window.tabs.setCurrentWidget(page)
    page.ui.audit.box.show()  # as after an adapt that doubts some labels: the column is taller than the page
    area = page.ui.side.threshold.parentWidget()
    while not isinstance(area, QScrollArea):
        area = area.parentWidget()
    qtbot.waitUntil(lambda: area.verticalScrollBar().maximum() > 0, timeout=5000)
    page.ui.images.grid.setFocus()
    scrolls_not_changes(qtbot, area, page.ui.side.threshold)
