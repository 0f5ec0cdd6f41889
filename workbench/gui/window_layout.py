"""How the main window is laid out: the settings (dataset, protocol, algorithm) and the run controls on
the left, the pages in tabs on the right, the banner above both.

`build_layout` returns the parts the window shows, hides and enables later as a `WindowLayout`; the window
keeps it as `window.ui` (and its tabs, which many parts use, as `window.tabs`)."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGroupBox, QScrollArea, QSplitter, QVBoxLayout, QWidget

from workbench.gui.page_tabs import PageTabs
from workbench.gui.training_panel import RunControls
from workbench.gui.window_actions import WindowActions


@dataclass(frozen=True)
class WindowLayout:
    """The laid-out parts the window changes: the settings form (enabled while no run is under way), the
    left side holding it and the run controls (shown beside the Dataset and Training pages), and the tabs."""

    settings_form: QWidget
    settings_side: QWidget
    run_controls: RunControls
    tabs: PageTabs


def build_layout(window, actions: WindowActions) -> WindowLayout:
    """Lay out `window`'s panels and pages (made before), with `actions` on the run controls."""
    settings = QWidget()
    settings_layout = QVBoxLayout(settings)
    data_box = QGroupBox("Dataset")
    QVBoxLayout(data_box).addWidget(window.data_panel)
    algorithm_box = QGroupBox("Algorithm")
    QVBoxLayout(algorithm_box).addWidget(window.algorithm_panel)
    for widget in (data_box, window.protocol_panel, algorithm_box):
        settings_layout.addWidget(widget)
    settings_layout.addStretch(1)
    scroll = QScrollArea()
    scroll.setWidget(settings)
    scroll.setWidgetResizable(True)
    scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    scroll.setMinimumWidth(max(settings.sizeHint().width() + 24, 400))
    run_controls = RunControls(actions.start, actions.pause, actions.stop)
    left = QWidget()
    left_layout = QVBoxLayout(left)
    left_layout.setContentsMargins(0, 0, 0, 0)
    left_layout.addWidget(scroll, 1)
    left_layout.addWidget(run_controls)

    tabs = PageTabs()
    for title, page in window.pages():
        tabs.addTab(page, title)
    # Settings live with the pages they configure; Label, Runs and Inspect use the whole width.
    tabs.currentChanged.connect(lambda _index: show_page_parts(window))
    split = QSplitter(Qt.Orientation.Horizontal)
    split.addWidget(left)
    split.addWidget(tabs)
    split.setStretchFactor(0, 0)
    split.setStretchFactor(1, 1)
    split.setSizes([scroll.minimumWidth(), 1000])
    central = QWidget()
    layout = QVBoxLayout(central)
    layout.setContentsMargins(6, 6, 6, 6)
    layout.addWidget(window.banner)
    layout.addWidget(split, 1)
    window.setCentralWidget(central)
    return WindowLayout(settings_form=settings, settings_side=left, run_controls=run_controls, tabs=tabs)


START_HINT = ("Choose a dataset folder (Ctrl+O) or zip (Ctrl+Shift+O), or drop one on the window, to begin. "
              "No data? File › Create demo dataset.")


def show_page_parts(window) -> None:
    """The training settings beside the pages they configure; the hint about choosing a dataset only there
    too (the Label, Runs and Inspect pages do not need one)."""
    settings_page = window.tabs.currentWidget() in (window.dataset_view, window.training_page)
    window.ui.settings_side.setVisible(settings_page)
    if not settings_page and window.statusBar().currentMessage() == START_HINT:
        window.statusBar().clearMessage()
