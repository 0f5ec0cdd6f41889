"""Keeps the window's `Activity` (projects/activity.py) true: each controller's Qt signal writes the part it
knows, so that the actions and any other view listen to the activity instead of asking widgets."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject

from workbench.projects.activity import Activity

if TYPE_CHECKING:  # for the annotations only: the window imports this module and those
    from workbench.gui.dataset_controller import DatasetController
    from workbench.gui.inspect.inspect_page import InspectPage
    from workbench.gui.status_job import StatusJob
    from workbench.gui.training_controller import TrainingController
    from workbench.gui.training_page import TrainingPage


class ActivitySync(QObject):
    """Writes `activity` from the training page (the run and its phase), the dataset controller (a scan), the
    status-bar job (a download) and the Inspect page (an evaluation); each is read only here."""

    def __init__(self, activity: Activity, trainer: TrainingController, training_page: TrainingPage,
                 datasets: DatasetController, status_job: StatusJob, inspect_page: InspectPage) -> None:
        super().__init__(training_page)
        self.activity = activity
        self.training_page, self.datasets = training_page, datasets
        self.status_job, self.inspect_page = status_job, inspect_page
        trainer.changed.connect(self.read_run)
        datasets.changed.connect(self.read_scan)
        status_job.changed.connect(self.read_download)
        inspect_page.busyChanged.connect(self.read_evaluation)
        self.read_run()
        self.read_scan()
        self.read_download()
        self.read_evaluation()

    def read_run(self) -> None:
        run = self.training_page.run
        self.activity.set_run(self.training_page.phase, run.run_dir if run is not None else "")

    def read_scan(self) -> None:
        self.activity.scanning = self.datasets.scanning

    def read_download(self) -> None:
        self.activity.downloading = self.status_job.running

    def read_evaluation(self, *_busy) -> None:
        self.activity.inspecting = self.inspect_page.busy
