"""Starting and resuming runs from the window's settings, and saying how they went.

The Training page (training_page.py) trains one run and shows it; this turns the dataset, protocol
and algorithm the window shows into that run's RunConfig, waits for a scan under way, and reports
the run's start, end or failure in the window's banner and status bar.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal

from workbench import catalogue
from workbench.algorithms.hyperparams import resolve_hyperparams
from workbench.errors import WorkbenchError
from workbench.gui.architecture_picker import architecture_problem
from workbench.gui.too_few_classes import training_blocker
from workbench.gui.training_page import new_run_dir
from workbench.runs.folder import RunFolder
from workbench.runs.config import RunConfig
from workbench.training.events import RunFinished, RunStarted


class TrainingController(QObject):
    """Start (`start`) or resume (`resume`) a run of `window`'s settings on its Training page.

    `changed()` fires whenever what the window's training actions can do may have changed.
    """

    changed = Signal()

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.page = page = window.training_page
        page.runStarted.connect(self._on_started)
        page.runFinished.connect(self._on_finished)
        page.runFailed.connect(self._on_failed)
        page.runEnded.connect(self._on_ended)
        page.stateChanged.connect(self.changed)

    def build_config(self) -> RunConfig:
        """The RunConfig the form describes; raises WorkbenchError with a readable message."""
        window = self.window
        paths, scan = window.data_panel.paths(), window.datasets.scan
        if not paths:
            raise WorkbenchError("Choose a dataset first: File › Open dataset folder… or zip….")
        if scan is None or not scan.classes:
            raise WorkbenchError("The chosen dataset has no usable classes; see the Dataset tab for its problems.")
        blocker = training_blocker(scan, window.protocol_panel.ways.value())
        if blocker and len(scan.classes) < 2:
            raise WorkbenchError(blocker)
        name, hparams = window.algorithm_panel.name, window.algorithm_panel.hyperparams()
        if problem := architecture_problem(hparams):
            raise WorkbenchError(problem)  # said before a run starts, pointing at the field
        resolve_hyperparams(catalogue.get(name).hyperparams, hparams, name)
        return RunConfig(data=paths, algorithm=name, hparams=hparams, **window.protocol_panel.config_kwargs())

    def start(self) -> None:
        """Train a new run of the settings shown (after the scan of the chosen paths, if one is due)."""
        window, datasets = self.window, self.window.datasets
        if self.page.running:
            return
        paths = window.data_panel.paths()
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
            window.banner.show_message(str(exc), "error")
            return
        window.banner.clear()
        self._train(config, new_run_dir(window.runs_root, config), resume=False)

    def resume(self, run_dir: str) -> None:
        """Continue a stopped run from its checkpoint, with its own settings, on the Training page."""
        window = self.window
        if self.page.running:
            window.banner.show_message("A run is already training; stop it before resuming another.", "warning")
            return
        try:
            folder = RunFolder.open(run_dir)
            config = folder.read_config()
            if not folder.checkpoint_path.exists():
                raise WorkbenchError(f"{run_dir} has no checkpoint to resume from; train a new run instead.")
        except WorkbenchError as exc:
            window.banner.show_message(str(exc), "error")
            return
        window.data_panel.set_paths(list(config.data))
        window.algorithm_panel.set_algorithm(config.algorithm)
        window.banner.clear()
        self._train(config, Path(run_dir), resume=True)

    def _train(self, config: RunConfig, run_dir: Path, resume: bool) -> None:
        self.page.start(config, run_dir, resume)
        self.window.tabs.setCurrentWidget(self.page)
        verb = "Resuming" if resume else "Training"
        self.window.statusBar().showMessage(f"{verb} {config.algorithm}, {config.ways}-way {config.shots}-shot…")
        self.changed.emit()

    def _on_started(self, event: RunStarted) -> None:
        self.window.device_label.setText(f"Device: {event.device}")
        self.changed.emit()

    def _on_finished(self, event: RunFinished) -> None:
        banner = self.window.banner
        if event.status == "completed":
            banner.show_message(f"{event.message} Saved in {event.run_dir}.", "success")
            self.window.label_page.offer_run(event.run_dir)  # "Use this model for labelling" on the Label tab
        elif event.status == "failed":
            banner.show_message(event.message, "error")
        elif event.status == "cancelled" and event.run_dir and RunFolder(event.run_dir).checkpoint_path.exists():
            banner.show_message(event.message, "info", ("Resume", lambda d=event.run_dir: self.resume(d)))
        else:
            banner.show_message(event.message, "info")
        self.window.statusBar().showMessage(event.message, 10000)

    def _on_failed(self, message: str) -> None:
        self.window.banner.show_message(message, "error")
        self.window.statusBar().showMessage("Could not train; the banner says why.", 10000)  # not "Training…" any more

    def _on_ended(self) -> None:
        self.window.runs_page.refresh()
        self.changed.emit()
