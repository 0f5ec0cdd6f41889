"""Light and dark themes: a Qt palette, a style sheet from resources/, and matching plot colours."""

from __future__ import annotations


import pyqtgraph as pg
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QWidget

from workbench.resources import resources_folder

RESOURCES = resources_folder()  # resources/ in a checkout, workbench/_resources in a wheel
THEMES = {"light": "style.qss", "dark": "style-dark.qss"}
PLOT_COLORS = {"light": ("w", "#333333"), "dark": ("#1e2126", "#d0d4da")}


def dark_palette() -> QPalette:
    palette = QPalette()
    colors = {
        QPalette.ColorRole.Window: "#2b2f35", QPalette.ColorRole.WindowText: "#e3e6ea",
        QPalette.ColorRole.Base: "#1e2126", QPalette.ColorRole.AlternateBase: "#262a30",
        QPalette.ColorRole.ToolTipBase: "#2b2f35", QPalette.ColorRole.ToolTipText: "#e3e6ea",
        QPalette.ColorRole.Text: "#e3e6ea", QPalette.ColorRole.Button: "#353a41",
        QPalette.ColorRole.ButtonText: "#e3e6ea", QPalette.ColorRole.BrightText: "#ff6b6b",
        QPalette.ColorRole.Link: "#6cb6ff", QPalette.ColorRole.Highlight: "#3d7bd9",
        QPalette.ColorRole.HighlightedText: "#ffffff", QPalette.ColorRole.PlaceholderText: "#8a9099",
    }
    for role, color in colors.items():
        palette.setColor(role, QColor(color))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText, QPalette.ColorRole.WindowText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor("#7b818a"))
    return palette


def apply_theme(name: str, app: QApplication | None = None, root: QWidget | None = None) -> str:
    """Apply theme `name` ('light' or 'dark'; anything else means light) to the app and to the plots
    inside `root` (a window)."""
    name = name if name in THEMES else "light"
    app = app or QApplication.instance()
    background, foreground = PLOT_COLORS[name]
    # Restyling every widget takes about a second: only when the theme changes. Plots are cheap, and a
    # new window's plots need it too (their titles and legends keep the colour they were made with).
    if app.property("workbenchTheme") != name:
        if app.style().name().lower() != "fusion":
            app.setStyle("Fusion")
        app.setPalette(dark_palette() if name == "dark" else app.style().standardPalette())
        sheet = RESOURCES / THEMES[name]
        app.setStyleSheet(sheet.read_text(encoding="utf-8") if sheet.is_file() else "")
        pg.setConfigOptions(background=background, foreground=foreground, antialias=True)
        app.setProperty("workbenchTheme", name)
    # Only the window's own plots: walking app.allWidgets() meets widgets of closed windows half way
    # through deletion, and touching those crashes the process.
    if root is not None:
        for widget in root.findChildren(pg.PlotWidget):
            style_plot(widget, background, foreground)
    return name


def style_plot(widget: pg.PlotWidget, background: str, foreground: str) -> None:
    """Give every part of a plot drawn so far the theme's colours: background, axes and their labels,
    title and legend (pyqtgraph fixes an item's colour when it is made)."""
    widget.setBackground(background)
    plot = widget.getPlotItem()
    for name in ("left", "bottom", "right", "top"):
        axis = plot.getAxis(name)
        axis.setPen(foreground)
        axis.setTextPen(foreground)
        axis.labelStyle = {**axis.labelStyle, "color": foreground}
        axis.label.setHtml(axis.labelString())
    if plot.titleLabel.text:
        plot.setTitle(plot.titleLabel.text, color=foreground)
    legend = plot.legend
    if legend is not None:
        legend.setLabelTextColor(foreground)
        fill = pg.mkColor(background)  # also reads pyqtgraph names such as "w"
        fill.setAlpha(200)
        legend.setBrush(pg.mkBrush(fill))
        for _sample, label in legend.items:
            label.setText(label.text, color=foreground)


def current_theme(app: QApplication | None = None) -> str:
    app = app or QApplication.instance()
    return app.property("workbenchTheme") or "light"


def wrong_text_color() -> str:
    """Red for text that says something went wrong: the light theme's deep red is unreadable on dark grey."""
    return "#ff7a7a" if current_theme() == "dark" else "#c62828"


def right_text_color() -> str:
    return "#7bd67f" if current_theme() == "dark" else "#1b5e20"
