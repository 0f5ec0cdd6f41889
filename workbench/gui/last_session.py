"""What the window picks up again on the next start: the last dataset it opened, the model the Label
page used and the run whose evaluation Inspect showed, kept in the app's settings (settings.py) as each
is chosen, so a crash keeps them too. Inspect shows the saved evaluation again; it never evaluates anew
at start.

A dataset or run folder that is gone by then is skipped, and the status bar says so.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings

from workbench.gui.settings import string_list
from workbench.inspect.evaluation import EVALUATION_FILE

DATASETS_KEY = "last_session/datasets"
LABEL_MODEL_KEY = "last_session/label_model"
INSPECTED_KEY = "last_session/inspected_run"


def remember_datasets(settings: QSettings, paths: list[str]) -> None:
    if paths:
        settings.setValue(DATASETS_KEY, list(paths))
    else:  # the person removed every dataset: the next start opens none either
        settings.remove(DATASETS_KEY)


def remember_label_model(settings: QSettings, run_dir: str | None) -> None:
    if run_dir:
        settings.setValue(LABEL_MODEL_KEY, str(run_dir))
    else:
        settings.remove(LABEL_MODEL_KEY)


def remember_inspected(settings: QSettings, run_dir: str) -> None:
    settings.setValue(INSPECTED_KEY, str(run_dir))


def reopen(window, datasets: bool = True) -> None:
    """Open the remembered datasets (unless `datasets` is False: the command line named others) and give
    the Label page its remembered model; what is gone is forgotten and named in the status bar."""
    settings, gone = window.settings, []
    if datasets:
        remembered = string_list(settings, DATASETS_KEY)
        present = [p for p in remembered if Path(p).exists()]
        gone += [p for p in remembered if p not in present]
        if present:
            window.data_panel.set_paths(present)  # scanned in the background, as if chosen again
        elif remembered:
            remember_datasets(settings, [])
    run_dir = str(settings.value(LABEL_MODEL_KEY, "") or "")
    if run_dir and not Path(run_dir).is_dir():
        gone.append(run_dir)
        window.label_page.ui.banner.show_message(f"The model run folder {run_dir} of your last session is gone; "
                                                 "choose another run under Model to adapt.", "warning")
    if run_dir and not (Path(run_dir).is_dir() and window.label_page.load_run(run_dir)):
        remember_label_model(settings, None)  # gone, or it cannot be loaded (the Label page's banner says why)
    inspected = str(settings.value(INSPECTED_KEY, "") or "")
    if inspected:
        saved = (Path(inspected) / EVALUATION_FILE).is_file() and window.inspect_page.show_saved(inspected)
        if not saved:  # the run or its evaluation is gone or damaged: nothing to show again
            settings.remove(INSPECTED_KEY)
    if gone:
        window.statusBar().showMessage(f"Not reopened, no longer there: {', '.join(gone)}.", 15000)
