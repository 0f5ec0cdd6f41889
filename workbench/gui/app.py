"""Starting the desktop application."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from PySide6.QtWidgets import QApplication

from workbench.gui.main_window import APP_TITLE, MainWindow
from workbench.gui.themes import apply_theme


def reserve_a_core_for_the_window() -> None:
    """Let torch's CPU threads leave one core to the GUI thread.

    Torch's worker threads spin while they wait for each other; when the window
    repaints on one of them, every step stalls. Measured on 2 cores (ProtoNet,
    Omniglot 5-way 1-shot, the window drawing curves at 20 Hz): 8 episodes/s with
    2 torch threads, 23 with 1. The setting is process-wide, and only the GUI sets it.
    """
    import torch

    cores = os.cpu_count() or 1
    if cores > 1 and torch.get_num_threads() >= cores:
        torch.set_num_threads(cores - 1)


def make_application(argv: list[str] | None = None) -> QApplication:
    """The QApplication (reused if one exists), with the workbench's look applied."""
    app = QApplication.instance() or QApplication(list(argv if argv is not None else sys.argv))
    app.setApplicationName(APP_TITLE)
    app.setOrganizationName("fewshot-workbench")
    if app.property("workbenchTheme") is None:
        apply_theme("light", app)  # the window then applies the theme the user chose last
    reserve_a_core_for_the_window()
    return app


def run_app(
    argv: list[str] | None = None,
    runs_root: str | Path | None = None,
    algorithm: str | None = None,
    start: bool = False,
    settings: dict | None = None,
) -> int:
    """Open the main window and run the event loop; returns the exit code.

    Dataset paths given as arguments are loaded at start
    (`main.py gui --data path/to/images_background.zip`); `algorithm` preselects
    one, `settings` fills protocol fields by name (e.g. {"rotations": True}) and
    `start` begins training at once.
    """
    from PySide6.QtCore import QTimer

    argv = list(argv if argv is not None else sys.argv)
    app = make_application(argv[:1])
    paths = [arg for arg in argv[1:] if not arg.startswith("-")]
    window = MainWindow(runs_root=runs_root, reopen_datasets=not paths)  # datasets named here replace the last ones
    window.show()
    if paths:
        window.data_panel.set_paths(paths)
    if algorithm:
        window.algorithm_panel.set_algorithm(algorithm)
    for name, value in (settings or {}).items():
        window.protocol_panel.set_value(name, value)
    if start and paths:
        QTimer.singleShot(300, window.start_training)
    return app.exec()
