"""Every plot item (title, axes, axis labels, legend) and the banner's close button are readable in
both themes, at start and after switching at run time: WCAG contrast of at least 4.5 against what
they are drawn on. Also: messages about an earlier state do not stay on screen."""

import pyqtgraph as pg
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette

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
    banner = window.banner
    for level in ("error", "warning", "success", "info"):
        banner.show_message("A message.", level)
        banner.close_button.ensurePolished()
        cross = banner.close_button.palette().color(QPalette.ColorRole.ButtonText)
        from workbench.gui.banner import COLORS
        if contrast(cross, COLORS[level][0]) < 4.5:
            bad.append(f"banner {level} close button: {contrast(cross, COLORS[level][0]):.1f}")
    banner.clear()
    return bad


@pytest.mark.slow
def test_plots_and_banners_are_readable_in_both_themes_and_after_switching(window_factory, qtbot):
    window = window_factory()
    try:
        window.theme_actions["dark"].trigger()
        assert unreadable(window) == []
        started_dark = window_factory()  # a window that opens in the remembered dark theme
        assert started_dark.theme == "dark" and unreadable(started_dark) == []
        window.theme_actions["light"].trigger()
        assert unreadable(window) == [] and unreadable(started_dark) == []
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
    qtbot.mouseClick(window.run_controls.buttons[0], Qt.MouseButton.LeftButton)
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
            window.theme_actions[theme].trigger()
            background = window.palette().color(QPalette.ColorRole.Window)
            base = window.palette().color(QPalette.ColorRole.Base)
            for colour in (wrong_text_color(), right_text_color()):
                assert min(contrast(colour, background), contrast(colour, base)) >= 4.5, (theme, colour)
    finally:
        window.set_theme("light")
