"""Every plot item (title, axes, axis labels, legend) and every message strip (its text, close cross
and button, on the window and on the Label page) are readable in both themes, at start and after
switching at run time: WCAG contrast of at least 4.5 against what they are drawn on. Also: messages
about an earlier state do not stay on screen."""

import pyqtgraph as pg
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QLabel

from tests.gui.conftest import SCAN_TIMEOUT_MS

pytestmark = pytest.mark.gui


def luminance(color: QColor) -> float:
    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    return 0.2126 * channel(color.redF()) + 0.7152 * channel(color.greenF()) + 0.0722 * channel(color.blueF())


def contrast(a, b) -> float:
    high, low = sorted((luminance(QColor(a)), luminance(QColor(b))), reverse=True)
    return (high + 0.05) / (low + 0.05)


def plot_colours(widget: pg.PlotWidget) -> dict[str, QColor]:
    plot = widget.getPlotItem()
    found = {}
    if plot.titleLabel.text:
        found["title"] = QColor(plot.titleLabel.opts["color"])
    for name in ("left", "bottom"):
        axis = plot.getAxis(name)
        found[f"{name} ticks"] = axis.textPen().color()
        if axis.labelText:
            found[f"{name} label"] = QColor(axis.labelStyle["color"])
    if plot.legend is not None:
        for _sample, label in plot.legend.items:
            found[f"legend {label.text}"] = QColor(label.opts["color"])
    return found


def unreadable(window) -> list[str]:
    bad = []
    plots = window.findChildren(pg.PlotWidget)
    assert len(plots) >= 3
    for widget in plots:
        background = widget.backgroundBrush().color()
        for part, colour in plot_colours(widget).items():
            ratio = contrast(colour, background)
            if ratio < 4.5:
                bad.append(f"{widget.getPlotItem().titleLabel.text or 'plot'} {part}: {ratio:.1f}")
        legend = widget.getPlotItem().legend
        if legend is not None:  # legend text is read on the legend's own box
            fill = pg.mkBrush(legend.opts["brush"]).color()
            for _sample, label in legend.items:
                ratio = contrast(QColor(label.opts["color"]), fill)
                if ratio < 4.5:
                    bad.append(f"legend box {label.text}: {ratio:.1f}")
    return bad + unreadable_banners(window)


def background_of(strip) -> QColor:
    """The colour a strip is filled with, read from what it draws (left of its text, mid height)."""
    return strip.grab().toImage().pixelColor(5, strip.height() // 2)


def text_colour(widget) -> QColor:
    widget.ensurePolished()
    return widget.palette().color(widget.foregroundRole())


def unreadable_banners(window) -> list[str]:
    """Every message strip of the window, at every level, with a button: its text, its close cross and
    its button's text against what each is drawn on."""
    from workbench.gui.banner import MessageBanner

    bad = []
    banners = window.findChildren(MessageBanner)
    assert window.banner in banners and window.label_page.ui.banner in banners
    shown = window.tabs.currentWidget()
    for banner in banners:
        page = next((p for _title, p in window.pages() if p.isAncestorOf(banner)), None)
        if page is not None:
            window.tabs.setCurrentWidget(page)
        for level in ("error", "warning", "success", "info"):
            banner.show_message("A message.", level, ("Do it", lambda: None))
            QApplication.processEvents()
            background = background_of(banner)
            for part, widget in (("text", banner.label), ("close button", banner.close_button)):
                ratio = contrast(text_colour(widget), background)
                if ratio < 4.5:
                    bad.append(f"{banner.parentWidget().objectName() or 'banner'} {level} {part}: {ratio:.1f}")
            button = banner.action_button
            ratio = contrast(text_colour(button), background_of(button))
            if ratio < 4.5:
                bad.append(f"banner {level} button: {ratio:.1f}")
        banner.clear()
    window.tabs.setCurrentWidget(shown)
    return bad


@pytest.mark.slow
def test_plots_and_banners_are_readable_in_both_themes_and_after_switching(window_factory, qtbot):
    window = window_factory()
    try:
        window.actions.themes["dark"].trigger()
        assert unreadable(window) == []
        started_dark = window_factory()  # a window that opens in the remembered dark theme
        assert started_dark.theme == "dark" and unreadable(started_dark) == []
        window.actions.themes["light"].trigger()
        assert unreadable(window) == [] and unreadable(started_dark) == []
    finally:
        window.set_theme("light")


def readable_strip_texts(window, words: str) -> list[float]:
    """The contrast of each shown text that contains `words` against the strip it sits on."""
    QApplication.processEvents()
    return [round(contrast(text_colour(label), background_of(label.parentWidget())), 2)
            for label in window.findChildren(QLabel) if words in label.text() and label.isVisible()]


@pytest.mark.parametrize("theme", ["dark", "light"])
def test_the_label_pages_training_finished_message_reads_after_switching_theme(window, qtbot, tmp_path, theme):
    """The strip that offers a finished run on the Label page, shown, then the theme switched under it."""
    from workbench.training.events import RunFinished

    other = "light" if theme == "dark" else "dark"
    try:
        window.actions.themes[other].trigger()
        window.training_page.show_event(RunFinished("completed", "Finished 15 steps.", 15, 0.5,
                                                    str(tmp_path / "runs" / "protonet-1")))
        window.tabs.setCurrentWidget(window.label_page)
        window.actions.themes[theme].trigger()
        ratios = readable_strip_texts(window.label_page, "Training finished")
        assert ratios and min(ratios) >= 4.5, ratios
    finally:
        window.set_theme("light")


def test_an_empty_folder_does_not_keep_the_previous_datasets_check(window, glyphs_shared, tmp_path, qtbot):
    window.data_panel.set_paths([str(glyphs_shared)])
    qtbot.waitUntil(lambda: not window.scan_running and not window.image_check_running, timeout=SCAN_TIMEOUT_MS)
    assert window.dataset_view.check_status.text().startswith("All ")
    empty = tmp_path / "empty"
    empty.mkdir()
    row = window.data_panel.rows[0]
    row.edit.selectAll()
    qtbot.keyClicks(row.edit, str(empty))
    qtbot.keyClick(row.edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not window.scan_running, timeout=SCAN_TIMEOUT_MS)
    assert "checked" not in window.dataset_view.check_status.text()


def test_a_failed_start_clears_training_from_the_status_bar(window, tmp_path, qtbot):
    from tests.gui.test_main_window import set_small_protocol
    from tests.synthetic import make_glyph_dataset

    root = make_glyph_dataset(tmp_path / "glyphs", groups=1, classes_per_group=6, images_per_class=4)
    window.data_panel.set_paths([str(root)])
    qtbot.waitUntil(lambda: not window.scan_running, timeout=SCAN_TIMEOUT_MS)
    set_small_protocol(window, ways=6, steps=10)  # the split leaves too few classes: the run fails
    qtbot.mouseClick(window.ui.run_controls.buttons[0], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.training is None, timeout=60_000)
    assert window.banner.level == "error"
    assert "Training" not in window.statusBar().currentMessage()


@pytest.mark.slow
def test_the_red_and_green_of_right_and_wrong_read_on_both_themes(window, qtbot):
    """The worst mistakes' "99% sure", a failed evaluation and the embedding's legend are coloured text
    on the window's own background: the light theme's deep red was unreadable on the dark grey."""
    from workbench.gui.themes import right_text_color, wrong_text_color

    try:
        for theme in ("light", "dark"):
            window.actions.themes[theme].trigger()
            background = window.palette().color(QPalette.ColorRole.Window)
            base = window.palette().color(QPalette.ColorRole.Base)
            for colour in (wrong_text_color(), right_text_color()):
                assert min(contrast(colour, background), contrast(colour, base)) >= 4.5, (theme, colour)
    finally:
        window.set_theme("light")
