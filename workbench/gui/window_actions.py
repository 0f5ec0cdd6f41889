"""The main window's actions and menus: what each does, its shortcut, and where it is listed.

`make_actions` returns the window's actions as a `WindowActions`, `make_menus` the menu parts the window
changes later as a `WindowMenus`; the window keeps them as `window.actions` and `window.menus`."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QMenu, QStyle

from workbench.gui.data_actions import (
    add_dataset, create_demo_dataset, export_adapted_model, get_omniglot, open_dataset_folder, open_dataset_zip,
)
from workbench.gui.shortcuts import run_by_window_keys
from workbench.gui.too_few_classes import training_blocker
from workbench.gui.training_hint import before_training
from workbench.projects.actions import action_states
from workbench.projects.activity import facts_of


@dataclass(frozen=True)
class WindowActions:
    """The window's actions (in its menus, and the run controls' buttons), with their shortcuts."""

    open_folder: QAction
    open_zip: QAction
    add_dataset: QAction
    runs_root: QAction
    quit: QAction
    start: QAction
    pause: QAction
    stop: QAction
    new_project: QAction
    open_project: QAction
    save_project: QAction
    save_project_as: QAction
    demo: QAction
    omniglot: QAction
    resume: QAction
    evaluate: QAction
    refresh_runs: QAction
    themes: dict[str, QAction]  # by theme name: "light", "dark"
    theme_group: QActionGroup


@dataclass(frozen=True)
class WindowMenus:
    """The menu parts the window changes after building them: File › Open recent project, and the View
    menu's page actions (Ctrl+1…), in the order of the tabs."""

    recent_projects: QMenu
    pages: list[QAction]


def make_actions(window) -> WindowActions:
    """The window's actions, each with one shortcut that no other action of the window uses."""
    style = window.style()
    open_folder = QAction(style.standardIcon(QStyle.StandardPixmap.SP_DirOpenIcon), "Open dataset &folder…", window)
    open_folder.setShortcut(QKeySequence.StandardKey.Open)
    open_folder.triggered.connect(lambda: open_dataset_folder(window))
    open_zip = QAction("Open dataset &zip…", window)
    open_zip.setShortcut(QKeySequence("Ctrl+Shift+O"))
    open_zip.triggered.connect(lambda: open_dataset_zip(window))
    add_dataset_action = QAction("&Add another dataset…", window)
    add_dataset_action.triggered.connect(lambda: add_dataset(window))
    runs_root = QAction("Choose &runs folder…", window)
    runs_root.triggered.connect(window.choose_runs_root)
    quit_action = QAction("&Quit", window)
    # Not StandardKey.Quit: some platforms bind nothing to it.
    quit_action.setShortcut(QKeySequence("Ctrl+Q"))
    quit_action.triggered.connect(window.close)

    start = QAction(style.standardIcon(QStyle.StandardPixmap.SP_MediaPlay), "&Start training", window)
    start.setShortcut(QKeySequence("Ctrl+R"))
    start.triggered.connect(window.trainer.start)
    pause = QAction(style.standardIcon(QStyle.StandardPixmap.SP_MediaPause), "&Pause", window)
    pause.setShortcut(QKeySequence("Ctrl+P"))
    pause.triggered.connect(window.training_page.toggle_pause)
    stop = QAction(style.standardIcon(QStyle.StandardPixmap.SP_MediaStop), "S&top", window)
    stop.setShortcut(QKeySequence("Ctrl+."))
    stop.triggered.connect(window.training_page.stop)
    stop.setToolTip("Stop the run; it is saved and can be resumed.")

    new_project = QAction("&New project", window)
    new_project.setShortcut(QKeySequence.StandardKey.New)
    new_project.triggered.connect(window.projects.new)
    open_project = QAction("Open &project…", window)
    open_project.setShortcut(QKeySequence("Ctrl+Alt+O"))
    open_project.triggered.connect(window.projects.open_dialog)
    # One Ctrl+S for the whole window: it saves what the current page is about (see save_current).
    save_project = QAction("&Save project", window)
    save_project.setShortcut(QKeySequence.StandardKey.Save)
    save_project.triggered.connect(window.save_current)
    run_by_window_keys(window.label_page.actions.save_session, save_project)  # as save_current does
    save_project_as = QAction("Save project &as…", window)
    save_project_as.setShortcut(QKeySequence("Ctrl+Shift+S"))
    save_project_as.triggered.connect(lambda: window.projects.save(ask=True))
    demo = QAction("Create &demo dataset", window)
    demo.setShortcut(QKeySequence("Ctrl+D"))
    demo.setToolTip(f"Draw {window.demo_classes} glyph classes x {window.demo_images} images into your data "
                    "folder and load them: train with no data and no network.")
    demo.triggered.connect(lambda: create_demo_dataset(window))
    omniglot = QAction("Get &Omniglot (download)", window)
    omniglot.setToolTip("Download Omniglot's background set (964 classes) through torchvision.")
    omniglot.triggered.connect(lambda: get_omniglot(window))
    resume = QAction("Resume selected run", window)
    resume.setShortcut(QKeySequence("Ctrl+Shift+R"))
    resume.triggered.connect(window.runs_page.resume_selected)
    evaluate = QAction("&Evaluate / inspect selected run", window)
    evaluate.setShortcut(QKeySequence("Ctrl+E"))
    evaluate.triggered.connect(window.evaluate_selected_or_last)
    refresh_runs = QAction("Refresh run list", window)
    refresh_runs.setShortcut(QKeySequence.StandardKey.Refresh)
    refresh_runs.triggered.connect(window.runs_page.refresh)
    themes: dict[str, QAction] = {}
    theme_group = QActionGroup(window)
    for name, text in (("light", "&Light"), ("dark", "&Dark")):
        action = QAction(text, window, checkable=True)
        action.triggered.connect(lambda _checked=False, n=name: window.set_theme(n))
        theme_group.addAction(action)
        themes[name] = action
    return WindowActions(
        open_folder=open_folder, open_zip=open_zip, add_dataset=add_dataset_action, runs_root=runs_root,
        quit=quit_action, start=start, pause=pause, stop=stop, new_project=new_project, open_project=open_project,
        save_project=save_project, save_project_as=save_project_as, demo=demo, omniglot=omniglot, resume=resume,
        evaluate=evaluate, refresh_runs=refresh_runs, themes=themes, theme_group=theme_group)


def make_menus(window, actions: WindowActions) -> WindowMenus:
    """The menu bar; after the layout, as the View menu names the pages."""
    file_menu = window.menuBar().addMenu("&File")
    for action in (actions.new_project, actions.open_project):
        file_menu.addAction(action)
    recent_projects = file_menu.addMenu("Open &recent project")
    for action in (actions.save_project, actions.save_project_as):
        file_menu.addAction(action)
    file_menu.addSeparator()
    file_menu.addAction(actions.open_folder)
    file_menu.addAction(actions.open_zip)
    file_menu.addAction(actions.add_dataset)
    file_menu.addAction(actions.demo)
    file_menu.addAction(actions.omniglot)
    file_menu.addSeparator()
    file_menu.addAction(actions.runs_root)
    file_menu.addSeparator()
    file_menu.addAction(actions.quit)
    training_menu = window.menuBar().addMenu("&Training")
    training_menu.addAction(actions.start)
    training_menu.addAction(actions.pause)
    training_menu.addAction(actions.stop)
    training_menu.addSeparator()
    training_menu.addAction(actions.resume)
    training_menu.addAction(actions.evaluate)
    view_menu = window.menuBar().addMenu("&View")
    page_actions = []
    for number, (title, page) in enumerate(window.pages(), start=1):
        action = view_menu.addAction(f"{title} page", lambda p=page: window.tabs.setCurrentWidget(p))
        action.setShortcut(QKeySequence(f"Ctrl+{number}"))
        page_actions.append(action)
    view_menu.addAction(actions.refresh_runs)
    view_menu.addSeparator()
    theme_menu = view_menu.addMenu("&Theme")
    for action in actions.themes.values():
        theme_menu.addAction(action)
    tools_menu = window.menuBar().addMenu("&Tools")
    tools_menu.addAction("&Export adapted classifier (ONNX / TorchScript)…", lambda: export_adapted_model(window))
    tools_menu.addAction("&Plugins…", window.show_plugins)
    help_menu = window.menuBar().addMenu("&Help")
    help_menu.addAction("&Getting started", window.show_getting_started)
    help_menu.addAction(actions.demo)
    shortcuts = help_menu.addAction("&Keyboard shortcuts", window.show_shortcuts)
    shortcuts.setShortcut(QKeySequence("Ctrl+/"))
    help_menu.addAction("&About", window.show_about)
    return WindowMenus(recent_projects=recent_projects, pages=page_actions)


def update_actions(window) -> None:
    """Enable what can be done now (projects/actions.py decides; this applies it)."""
    page, scan, actions = window.training_page, window.datasets.scan, window.actions
    blocker = training_blocker(scan, window.protocol_panel.ways.value())
    facts = facts_of(window.activity, len(scan.classes) if scan is not None else 0, blocker)
    start_keys = actions.start.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
    states = action_states(facts, start_keys)
    actions.start.setEnabled(states.start)
    actions.start.setToolTip(states.start_tip)
    page.training_panel.show_before_training(
        before_training(scan, window.dataset_view.counts, facts.scanning, blocker, start_keys))
    actions.pause.setEnabled(states.pause)
    actions.pause.setText("&Resume" if states.pause_says_resume else "&Pause")
    actions.pause.setIcon(window.style().standardIcon(
        QStyle.StandardPixmap.SP_MediaPlay if states.pause_says_resume else QStyle.StandardPixmap.SP_MediaPause))
    actions.stop.setEnabled(states.stop)
    window.ui.settings_form.setEnabled(states.settings)
    for action in (actions.open_folder, actions.open_zip, actions.add_dataset, actions.runs_root,
                   actions.new_project, actions.open_project, window.menus.recent_projects.menuAction(),
                   actions.resume):
        action.setEnabled(states.settings)
    for action in (actions.demo, actions.omniglot):
        action.setEnabled(states.datasets_to_fetch)
    actions.evaluate.setEnabled(states.evaluate)
