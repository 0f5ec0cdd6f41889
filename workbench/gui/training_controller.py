"""Starting and resuming runs from the window's settings, and saying how they went.

The Training page (training_page.py) trains one run and shows it; this turns the dataset, protocol
and algorithm the window shows into that run's RunConfig, waits for a scan under way, and reports
the run's start, end or failure in the window's banner and status bar.

It knows the panels it reads (data, protocol, algorithm), the dataset controller, the pages it
tells (Training, Label, Runs) and the banner; of the window only the runs folder now and three
things to show (a page, a status-bar message, the device a run trains on), each a callable.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget

from workbench import catalogue
from workbench.algorithms.hyperparams import resolve_hyperparams
from workbench.errors import WorkbenchError
from workbench.gui.algorithm_panel import AlgorithmPanel
from workbench.gui.architecture_picker import architecture_problem
from workbench.gui.banner import MessageBanner
from workbench.gui.data_panel import DataPanel
from workbench.gui.dataset_controller import DatasetController
from workbench.gui.labelling import LabelPage
from workbench.gui.protocol_panel import ProtocolPanel
from workbench.gui.runs.runs_page import RunsPage
from workbench.gui.too_few_classes import training_blocker
from workbench.gui.training_page import TrainingPage, new_run_dir
from workbench.runs.folder import RunFolder
from workbench.runs.config import RunConfig
from workbench.training.events import RunFinished, RunStarted


class TrainingController(QObject):
    """Start (`start`) or resume (`resume`) a run of the settings the panels show on `training_page`.

    `runs_root()` is the folder new runs are made in now; `show_page(page)` brings a page to the front,
    `show_status(text, timeout_ms)` shows a status-bar message (0: until replaced) and
    `show_device(text)` says where a run trains. `changed()` fires whenever what the window's training
    actions can do may have changed.
    """

    changed = Signal()

    def __init__(self, *, training_page: TrainingPage, data_panel: DataPanel, protocol_panel: ProtocolPanel,
                 algorithm_panel: AlgorithmPanel, datasets: DatasetController, banner: MessageBanner,
                 label_page: LabelPage, runs_page: RunsPage, runs_root: Callable[[], Path],
                 show_page: Callable[[QWidget], None], show_status: Callable[[str, int], None],
                 show_device: Callable[[str], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.data_panel, self.protocol_panel, self.algorithm_panel = data_panel, protocol_panel, algorithm_panel
        self.datasets, self.banner = datasets, banner
        self.label_page, self.runs_page = label_page, runs_page
        self.runs_root, self.show_page = runs_root, show_page
        self.show_status, self.show_device = show_status, show_device
        self.page = page = training_page
        page.runStarted.connect(self._on_started)
        page.runFinished.connect(self._on_finished)
        page.runFailed.connect(self._on_failed)
        page.runEnded.connect(self._on_ended)
        page.stateChanged.connect(self.changed)

    def build_config(self) -> RunConfig:
        """The RunConfig the form describes; raises WorkbenchError with a readable message."""
        paths, scan = self.data_panel.paths(), self.datasets.scan
        if not paths:
            raise WorkbenchError("Choose a dataset first: File › Open dataset folder… or zip….")
        if scan is None or not scan.classes:
            raise WorkbenchError("The chosen dataset has no usable classes; see the Dataset tab for its problems.")
        blocker = training_blocker(scan, self.protocol_panel.ways.value())
        if blocker and len(scan.classes) < 2:
            raise WorkbenchError(blocker)
        name, hparams = self.algorithm_panel.name, self.algorithm_panel.hyperparams()
        if problem := architecture_problem(hparams):
            raise WorkbenchError(problem)  # said before a run starts, pointing at the field
        resolve_hyperparams(catalogue.get(name).hyperparams, hparams, name)
        return RunConfig(data=paths, algorithm=name, hparams=hparams, **self.protocol_panel.config_kwargs())

    def start(self) -> None:
        """Train a new run of the settings shown (after the scan of the chosen paths, if one is due)."""
        datasets = self.datasets
        if self.page.running:
            return
        paths = self.data_panel.paths()
        if datasets.scanning and datasets.scan_paths == paths:
            datasets.after_scan(self.start)  # starts once the scan under way is shown
            return
        if paths and (datasets.scan is None or datasets.scan.roots != paths):
            # A path typed but not yet scanned: show what will be trained on, then start;
            # a path that cannot be read is explained in the banner instead.
            datasets.load(paths, then=self.start)
            return
        try:
            config = self.build_config()
        except WorkbenchError as exc:
            self.banner.show_message(str(exc), "error")
            return
        self.banner.clear()
        self._train(config, new_run_dir(self.runs_root(), config), resume=False)

    def resume(self, run_dir: str) -> None:
        """Continue a stopped run from its checkpoint, with its own settings, on the Training page."""
        if self.page.running:
            self.banner.show_message("A run is already training; stop it before resuming another.", "warning")
            return
        try:
            folder = RunFolder.open(run_dir)
            config = folder.read_config()
            if not folder.checkpoint_path.exists():
                raise WorkbenchError(f"{run_dir} has no checkpoint to resume from; train a new run instead.")
        except WorkbenchError as exc:
            self.banner.show_message(str(exc), "error")
            return
        self.data_panel.set_paths(list(config.data))
        self.algorithm_panel.set_algorithm(config.algorithm)
        self.banner.clear()
        self._train(config, Path(run_dir), resume=True)

    def _train(self, config: RunConfig, run_dir: Path, resume: bool) -> None:
        self.page.start(config, run_dir, resume)
        self.show_page(self.page)
        verb = "Resuming" if resume else "Training"
        self.show_status(f"{verb} {config.algorithm}, {config.ways}-way {config.shots}-shot…", 0)
        self.changed.emit()

    def _on_started(self, event: RunStarted) -> None:
        self.show_device(f"Device: {event.device}")
        self.changed.emit()

    def _on_finished(self, event: RunFinished) -> None:
        banner = self.banner
        if event.status == "completed":
            banner.show_message(f"{event.message} Saved in {event.run_dir}.", "success")
            self.label_page.offer_run(event.run_dir)  # "Use this model for labelling" on the Label tab
        elif event.status == "failed":
            banner.show_message(event.message, "error")
        elif event.status == "cancelled" and event.run_dir and RunFolder(event.run_dir).checkpoint_path.exists():
            banner.show_message(event.message, "info", ("Resume", lambda d=event.run_dir: self.resume(d)))
        else:
            banner.show_message(event.message, "info")
        self.show_status(event.message, 10000)

    def _on_failed(self, message: str) -> None:
        self.banner.show_message(message, "error")
        self.show_status("Could not train; the banner says why.", 10000)  # not "Training…" any more

    def _on_ended(self) -> None:
        self.runs_page.refresh()
        self.changed.emit()
