"""The main window's actions and menus: what each does, its shortcut, and where it is listed."""

from __future__ import annotations

from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QStyle

from workbench.gui.data_actions import (
    add_dataset, create_demo_dataset, export_adapted_model, get_omniglot, open_dataset_folder, open_dataset_zip,
)
from workbench.gui.shortcuts import run_by_window_keys
from workbench.gui.too_few_classes import training_blocker
from workbench.gui.training_hint import before_training
from workbench.projects.actions import action_states
from workbench.projects.activity import facts_of


def make_actions(window) -> None:
    """The window's actions, each with one shortcut that no other action of the window uses."""
    style = window.style()
    window.open_folder_action = QAction(style.standardIcon(QStyle.StandardPixmap.SP_DirOpenIcon),
                                      "Open dataset &folder…", window)
    window.open_folder_action.setShortcut(QKeySequence.StandardKey.Open)
    window.open_folder_action.triggered.connect(lambda: open_dataset_folder(window))
    window.open_zip_action = QAction("Open dataset &zip…", window)
    window.open_zip_action.setShortcut(QKeySequence("Ctrl+Shift+O"))
    window.open_zip_action.triggered.connect(lambda: open_dataset_zip(window))
    window.add_dataset_action = QAction("&Add another dataset…", window)
    window.add_dataset_action.triggered.connect(lambda: add_dataset(window))
    window.runs_root_action = QAction("Choose &runs folder…", window)
    window.runs_root_action.triggered.connect(window.choose_runs_root)
    window.quit_action = QAction("&Quit", window)
    # Not StandardKey.Quit: some platforms bind nothing to it.
    window.quit_action.setShortcut(QKeySequence("Ctrl+Q"))
    window.quit_action.triggered.connect(window.close)

    window.start_action = QAction(style.standardIcon(QStyle.StandardPixmap.SP_MediaPlay), "&Start training", window)
    window.start_action.setShortcut(QKeySequence("Ctrl+R"))
    window.start_action.triggered.connect(window.trainer.start)
    window.pause_action = QAction(style.standardIcon(QStyle.StandardPixmap.SP_MediaPause), "&Pause", window)
    window.pause_action.setShortcut(QKeySequence("Ctrl+P"))
    window.pause_action.triggered.connect(window.training_page.toggle_pause)
    window.stop_action = QAction(style.standardIcon(QStyle.StandardPixmap.SP_MediaStop), "S&top", window)
    window.stop_action.setShortcut(QKeySequence("Ctrl+."))
    window.stop_action.triggered.connect(window.training_page.stop)
    window.stop_action.setToolTip("Stop the run; it is saved and can be resumed.")

    window.new_project_action = QAction("&New project", window)
    window.new_project_action.setShortcut(QKeySequence.StandardKey.New)
    window.new_project_action.triggered.connect(window.projects.new)
    window.open_project_action = QAction("Open &project…", window)
    window.open_project_action.setShortcut(QKeySequence("Ctrl+Alt+O"))
    window.open_project_action.triggered.connect(window.projects.open_dialog)
    # One Ctrl+S for the whole window: it saves what the current page is about (see save_current).
    window.save_project_action = QAction("&Save project", window)
    window.save_project_action.setShortcut(QKeySequence.StandardKey.Save)
    window.save_project_action.triggered.connect(window.save_current)
    run_by_window_keys(window.label_page.actions.save_session, window.save_project_action)  # as save_current does
    window.save_project_as_action = QAction("Save project &as…", window)
    window.save_project_as_action.setShortcut(QKeySequence("Ctrl+Shift+S"))
    window.save_project_as_action.triggered.connect(lambda: window.projects.save(ask=True))
    window.demo_action = QAction("Create &demo dataset", window)
    window.demo_action.setShortcut(QKeySequence("Ctrl+D"))
    window.demo_action.setToolTip(f"Draw {window.demo_classes} glyph classes x {window.demo_images} images into your data "
                                "folder and load them: train with no data and no network.")
    window.demo_action.triggered.connect(lambda: create_demo_dataset(window))
    window.omniglot_action = QAction("Get &Omniglot (download)", window)
    window.omniglot_action.setToolTip("Download Omniglot's background set (964 classes) through torchvision.")
    window.omniglot_action.triggered.connect(lambda: get_omniglot(window))
    window.resume_action = QAction("Resume selected run", window)
    window.resume_action.setShortcut(QKeySequence("Ctrl+Shift+R"))
    window.resume_action.triggered.connect(window.runs_page.resume_selected)
    window.evaluate_action = QAction("&Evaluate / inspect selected run", window)
    window.evaluate_action.setShortcut(QKeySequence("Ctrl+E"))
    window.evaluate_action.triggered.connect(window.evaluate_selected_or_last)
    window.refresh_runs_action = QAction("Refresh run list", window)
    window.refresh_runs_action.setShortcut(QKeySequence.StandardKey.Refresh)
    window.refresh_runs_action.triggered.connect(window.runs_page.refresh)
    window.theme_actions = {}
    window.theme_group = QActionGroup(window)
    for name, text in (("light", "&Light"), ("dark", "&Dark")):
        action = QAction(text, window, checkable=True)
        action.triggered.connect(lambda _checked=False, n=name: window.set_theme(n))
        window.theme_group.addAction(action)
        window.theme_actions[name] = action

def make_menus(window) -> None:
    """The menu bar; after the layout, as the View menu names the pages."""
    file_menu = window.menuBar().addMenu("&File")
    for action in (window.new_project_action, window.open_project_action):
        file_menu.addAction(action)
    window.recent_menu = window.projects.recent_menu = file_menu.addMenu("Open &recent project")
    for action in (window.save_project_action, window.save_project_as_action):
        file_menu.addAction(action)
    file_menu.addSeparator()
    file_menu.addAction(window.open_folder_action)
    file_menu.addAction(window.open_zip_action)
    file_menu.addAction(window.add_dataset_action)
    file_menu.addAction(window.demo_action)
    file_menu.addAction(window.omniglot_action)
    file_menu.addSeparator()
    file_menu.addAction(window.runs_root_action)
    file_menu.addSeparator()
    file_menu.addAction(window.quit_action)
    training_menu = window.menuBar().addMenu("&Training")
    training_menu.addAction(window.start_action)
    training_menu.addAction(window.pause_action)
    training_menu.addAction(window.stop_action)
    training_menu.addSeparator()
    training_menu.addAction(window.resume_action)
    training_menu.addAction(window.evaluate_action)
    view_menu = window.menuBar().addMenu("&View")
    window.page_actions = []
    for number, (title, page) in enumerate(window.pages(), start=1):
        action = view_menu.addAction(f"{title} page", lambda p=page: window.tabs.setCurrentWidget(p))
        action.setShortcut(QKeySequence(f"Ctrl+{number}"))
        window.page_actions.append(action)
    view_menu.addAction(window.refresh_runs_action)
    view_menu.addSeparator()
    theme_menu = view_menu.addMenu("&Theme")
    for action in window.theme_actions.values():
        theme_menu.addAction(action)
    tools_menu = window.menuBar().addMenu("&Tools")
    tools_menu.addAction("&Export adapted classifier (ONNX / TorchScript)…", lambda: export_adapted_model(window))
    tools_menu.addAction("&Plugins…", window.show_plugins)
    help_menu = window.menuBar().addMenu("&Help")
    help_menu.addAction("&Getting started", window.show_getting_started)
    help_menu.addAction(window.demo_action)
    shortcuts = help_menu.addAction("&Keyboard shortcuts", window.show_shortcuts)
    shortcuts.setShortcut(QKeySequence("Ctrl+/"))
    help_menu.addAction("&About", window.show_about)
    window.projects.update_recent_menu()


def update_actions(window) -> None:
    """Enable what can be done now (projects/actions.py decides; this applies it)."""
    page, scan = window.training_page, window.datasets.scan
    blocker = training_blocker(scan, window.protocol_panel.ways.value())
    facts = facts_of(window.activity, len(scan.classes) if scan is not None else 0, blocker)
    start_keys = window.start_action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
    states = action_states(facts, start_keys)
    window.start_action.setEnabled(states.start)
    window.start_action.setToolTip(states.start_tip)
    page.training_panel.show_before_training(
        before_training(scan, window.dataset_view.counts, facts.scanning, blocker, start_keys))
    window.pause_action.setEnabled(states.pause)
    window.pause_action.setText("&Resume" if states.pause_says_resume else "&Pause")
    window.pause_action.setIcon(window.style().standardIcon(
        QStyle.StandardPixmap.SP_MediaPlay if states.pause_says_resume else QStyle.StandardPixmap.SP_MediaPause))
    window.stop_action.setEnabled(states.stop)
    window.settings_widget.setEnabled(states.settings)
    for action in (window.open_folder_action, window.open_zip_action, window.add_dataset_action,
                   window.runs_root_action, window.new_project_action, window.open_project_action,
                   window.recent_menu.menuAction(), window.resume_action):
        action.setEnabled(states.settings)
    for action in (window.demo_action, window.omniglot_action):
        action.setEnabled(states.datasets_to_fetch)
    window.evaluate_action.setEnabled(states.evaluate)
