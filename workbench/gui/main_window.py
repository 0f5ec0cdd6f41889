"""The main window: dataset, protocol and algorithm on the left; pages (dataset, training, label, runs,
inspect) on the right; menus, drag and drop, themes and a status bar around them.

The window wires its parts together and holds the actions; the work is theirs: the dataset scan and
image check (dataset_controller.py), starting runs (training_controller.py) and showing them
(training_page.py), projects (project_controller.py), data to open, make or export (data_actions.py,
status_job.py), the layout, actions and menus (window_layout.py, window_actions.py). Every background
job runs on gui/workers.py.
"""

from __future__ import annotations

import copy
import gc
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QByteArray, QSize, Qt
from PySide6.QtGui import QCloseEvent, QGuiApplication
from PySide6.QtWidgets import QFileDialog, QLabel, QMainWindow, QMessageBox, QWidget

from workbench.catalogue import plugins
from workbench.data.sources import DatasetScan
from workbench.gui.activity_sync import ActivitySync
from workbench.gui.algorithm_panel import AlgorithmPanel
from workbench.gui.banner import MessageBanner
from workbench.gui.counted import counted
from workbench.gui.data_actions import create_demo_dataset, get_omniglot, open_dataset_folder, open_dataset_zip
from workbench.gui.data_panel import DataPanel
from workbench.gui.dataset_controller import DatasetController
from workbench.gui.dataset_view import DatasetView
from workbench.gui.inspect.inspect_page import InspectPage
from workbench.gui.last_session import remember_datasets, remember_inspected, remember_label_model, reopen
from workbench.gui.labelling import LabelPage
from workbench.gui.messages import PageMessages
from workbench.gui.page_tabs import PageTabs
from workbench.gui.plugins_dialog import PluginsDialog
from workbench.gui.project_controller import PROJECT_SUFFIX, ProjectController
from workbench.gui.protocol_panel import ProtocolPanel
from workbench.gui.runs.runs_page import RunsPage
from workbench.gui.settings import app_settings
from workbench.gui.state_binding import AlgorithmBinding, TrainingBinding
from workbench.gui.shortcuts import ShortcutsDialog, window_shortcuts
from workbench.gui.status_job import StatusJob
from workbench.gui.themes import apply_theme, current_theme
from workbench.gui.too_few_classes import flat_folder, training_blocker
from workbench.gui.run_plan import RunPlan
from workbench.gui.training_controller import TrainingController
from workbench.gui.training_page import TrainingPage, TrainingRun
from workbench.gui.unsaved_guard import UnsavedGuard
from workbench.gui.window_actions import WindowActions, WindowMenus, make_actions, make_menus, update_actions
from workbench.gui.window_layout import START_HINT, WindowLayout, build_layout
from workbench.gui.wheel_guard import guard_wheel
from workbench.projects.activity import Activity
from workbench.projects.state import WorkbenchState
from workbench.runs.config import RunConfig
from workbench.device import describe_device, resolve_device
from workbench.training.events import RunFinished

APP_TITLE = "Few-Shot Workbench"
DEMO_CLASSES = 300
DEMO_IMAGES = 20


def dropped_paths(mime) -> list[str]:
    """The dataset folders, zips or project files a drop carries; [] if anything else is among them."""
    if not mime.hasUrls():
        return []
    paths = [url.toLocalFile() for url in mime.urls() if url.isLocalFile()]
    usable = [p for p in paths if Path(p).is_dir() or p.lower().endswith((".zip", PROJECT_SUFFIX))]
    return usable if usable and len(usable) == len(paths) else []


PREFERRED_SIZE = QSize(1400, 880)


def first_size() -> QSize:
    """The window's size before any is remembered: the preferred one, within the screen it opens on
    (a 1024×700 screen gets a window that fits it, not one whose edges are off the screen)."""
    screen = QGuiApplication.primaryScreen()
    if screen is None:
        return PREFERRED_SIZE
    available = screen.availableGeometry().size()
    return PREFERRED_SIZE.boundedTo(available)


class MainWindow(QMainWindow):
    """Choose data, set the episode protocol and algorithm, then train with live curves and predictions;
    compare runs, inspect their results, and keep it all in a project.

    `runs_root` is the folder new run folders are made in (default: runs/ in the current directory).
    It reopens the last session's datasets (unless `reopen_datasets` is False) and the Label page's model.
    """

    demo_classes = DEMO_CLASSES
    demo_images = DEMO_IMAGES

    def __init__(self, runs_root: str | Path | None = None, algorithms: dict[str, type] | None = None,
                 reopen_datasets: bool = True) -> None:
        super().__init__()
        self.runs_root = Path(runs_root) if runs_root is not None else Path.cwd() / "runs"
        self.settings = app_settings()
        self.resize(first_size())
        self.setAcceptDrops(True)

        self.banner = MessageBanner()
        self.data_panel = DataPanel()
        self.protocol_panel = ProtocolPanel()
        self.algorithm_panel = AlgorithmPanel(algorithms)
        self.dataset_view = DatasetView()
        self.training_page = TrainingPage()
        self.training_panel, self.curves = self.training_page.training_panel, self.training_page.curves
        self.predictions = self.training_page.predictions
        self.label_page = LabelPage()  # label a folder with a trained model: workbench/gui/labelling
        self.runs_page = RunsPage()
        self.inspect_page = InspectPage()
        self.datasets = DatasetController(self.dataset_view, self.data_panel, self)
        self.trainer = TrainingController(
            training_page=self.training_page, data_panel=self.data_panel, protocol_panel=self.protocol_panel,
            algorithm_panel=self.algorithm_panel, datasets=self.datasets, banner=self.banner,
            label_page=self.label_page, runs_page=self.runs_page, runs_root=lambda: self.runs_root,
            show_page=lambda page: self.tabs.setCurrentWidget(page),
            show_status=lambda text, timeout: self.statusBar().showMessage(text, timeout),
            show_device=lambda text: self.device_label.setText(text), parent=self)
        # steps at the algorithm's default, and the estimated duration
        self.run_plan = RunPlan(algorithm_panel=self.algorithm_panel, protocol_panel=self.protocol_panel,
                                training_page=self.training_page, training_panel=self.training_panel,
                                run_changed=self.trainer.changed, runs_root=lambda: self.runs_root, parent=self)
        # What a person set, as data the panels show (projects/state.py); a project saves and restores it.
        self.state = WorkbenchState(runs_root=str(self.runs_root))
        self.activity = Activity()  # what the window is busy with (projects/activity.py); the actions follow it
        self.algorithm_binding = AlgorithmBinding(self.algorithm_panel, self.state.algorithm)
        self.training_binding = TrainingBinding(self.protocol_panel, self.state.training)
        self.first_settings = copy.deepcopy(self.state.training)  # what New project goes back to
        self.guard = UnsavedGuard(self)  # Save / Discard / Cancel before unsaved work is dropped
        self.projects = ProjectController(
            state=self.state, first_settings=self.first_settings, algorithm_binding=self.algorithm_binding,
            data_panel=self.data_panel, label_page=self.label_page, banner=self.banner, guard=self.guard,
            settings=self.settings, host=self, parent=self)
        self.actions: WindowActions = make_actions(self)
        self.ui: WindowLayout = build_layout(self, self.actions)
        self.tabs: PageTabs = self.ui.tabs  # the pages: shown, asked and watched by many parts
        self.menus: WindowMenus = make_menus(self, self.actions)  # after the layout: the View menu names its pages
        self.projects.recent_menu = self.menus.recent_projects
        self.projects.update_recent_menu()
        guard_wheel(self)  # the wheel scrolls the settings; a box changes on it only when focused
        self.messages = PageMessages(self.tabs, self.banner, {self.label_page: self.label_page.ui.banner,
                                                              self.runs_page: self.runs_page.banner})
        self._make_status_bar()
        self._connect()
        self.runs_page.set_root(self.runs_root)
        self.algorithm_panel.set_runs_root(self.runs_root)
        if algorithms is None:
            self._report_plugin_failures()
        self._restore_settings()
        self._update_title()
        self.update_actions()
        # A full garbage collection holds the GIL while it walks every object: with torch,
        # Qt and a 100 000-image scan loaded that froze the window for 0.2-0.3 s. Objects
        # that live as long as the window (and each scan) are left out of those walks.
        gc.freeze()
        self.statusBar().showMessage(START_HINT)
        reopen(self, datasets=reopen_datasets)  # after the connections: a reopened dataset is scanned as if chosen

    # --- building ------------------------------------------------------------
    def pages(self) -> list[tuple[str, QWidget]]:
        return [("Dataset", self.dataset_view), ("Training", self.training_page), ("Label", self.label_page),
                ("Runs", self.runs_page), ("Inspect", self.inspect_page)]

    def _make_status_bar(self) -> None:
        try:
            device = describe_device(resolve_device("auto"))
        except Exception:  # the status bar must not stop the app from opening
            device = "unknown"
        self.device_label = QLabel(f"Device: {device}")
        self.device_label.setToolTip("Where 'Auto' trains. Change it under Training › Device.")
        self.status_job = StatusJob(self.statusBar(), lambda text: self.banner.show_message(text, "error"), self)
        self.statusBar().addPermanentWidget(self.device_label)

    def _connect(self) -> None:
        self.data_panel.pathsChanged.connect(self.load_datasets)
        self.data_panel.pathsChanged.connect(lambda paths: paths or remember_datasets(self.settings, []))
        self.protocol_panel.ways.valueChanged.connect(lambda _ways: self.update_actions())
        for signal in (self.label_page.keeper.modifiedChanged, self.data_panel.pathsChanged,
                       self.algorithm_panel.algorithmChanged, self.protocol_panel.invert.toggled):
            signal.connect(lambda *_args: self.guard.update_title())
        datasets = self.datasets
        datasets.scanStarted.connect(lambda _paths: self.statusBar().showMessage(
            f"Scanning {datasets.describe_paths()}…"))
        datasets.scanned.connect(self._on_scanned)
        datasets.scanFailed.connect(self._on_scan_failed)
        datasets.changed.connect(self.update_actions)  # the classes the data holds
        self.activity_sync = ActivitySync(self.activity, self.trainer, self.training_page, datasets,
                                          self.status_job, self.inspect_page)
        self.activity.events.connect(lambda *_change: self.update_actions())
        self.projects.titleChanged.connect(self._update_title)
        self.training_page.test_score.scored.connect(lambda _run_dir: self.runs_page.refresh())
        self.training_page.runStarted.connect(lambda _event: self.runs_page.refresh())  # its folder is there now
        self.runs_page.resumeRequested.connect(self.trainer.resume)
        self.runs_page.evaluateRequested.connect(self.inspect_run)
        self.runs_page.useForLabelling.connect(self.use_for_labelling)
        self.label_page.modelChosen.connect(lambda run_dir: remember_label_model(self.settings, run_dir))
        self.inspect_page.inspectionShown.connect(lambda run_dir: remember_inspected(self.settings, run_dir))
        self.dataset_view.hint.setTextInteractionFlags(Qt.TextInteractionFlag.LinksAccessibleByMouse)
        self.dataset_view.hint.linkActivated.connect(self._on_hint_link)

    def _report_plugin_failures(self) -> None:
        failed = [status for status in plugins.statuses() if not status.loaded]
        if failed:
            details = "; ".join(f"{status.name}: {status.error}" for status in failed)
            self.banner.show_message(f"{counted(len(failed), 'algorithm plugin')} could not be loaded and "
                                     f"{'is' if len(failed) == 1 else 'are'} left out ({details}). "
                                     "The other algorithms work.", "warning")

    # --- what the window's parts are doing ----------------------------------------
    @property
    def scan(self) -> DatasetScan | None:
        return self.datasets.scan

    @property
    def scan_running(self) -> bool:
        return self.datasets.scanning

    @property
    def image_check_running(self) -> bool:
        return self.datasets.checking

    @property
    def training(self) -> TrainingRun | None:
        return self.training_page.run

    @property
    def last_finished(self) -> RunFinished | None:
        return self.training_page.last_finished

    # --- data ----------------------------------------------------------------
    def load_datasets(self, paths: list[str], then: Callable[[], None] | None = None) -> None:
        """Scan `paths` in the background (a newer request cancels an older one), then show their classes
        and problems; `then` runs once this scan has been shown. A bad path is reported, not raised."""
        self.datasets.load(paths, then)

    def _on_scan_failed(self, message: str) -> None:
        self.banner.show_message(message, "error")
        self.statusBar().showMessage("Could not read the dataset.", 8000)

    def _on_scanned(self, scan: DatasetScan) -> None:
        self.protocol_panel.set_groups([g for g in scan.groups if g])
        # No page change here: the person may be on another page (a resumed run's, say) by now.
        blocker = training_blocker(scan, self.protocol_panel.ways.value())
        if not scan.classes:
            self.banner.show_message("No usable classes found: a class is a folder holding images. "
                                     "See the problems list for what was found instead.", "error")
        elif blocker:
            folder = flat_folder(scan)
            self.banner.show_message(blocker, "warning", folder and ("Open on the Label page", lambda: self.label_folder(folder)))
        elif self.banner.level == "error" or "-way episodes need" in self.banner.text:
            self.banner.clear()  # about the dataset this scan replaced
        self.statusBar().showMessage(f"Loaded {self.datasets.summary()}.", 8000)
        remember_datasets(self.settings, scan.roots)  # reopened on the next start

    # --- training (training_controller.py, training_page.py) -----------------------
    def build_config(self) -> RunConfig:
        """The RunConfig the form describes; raises WorkbenchError with a readable message."""
        return self.trainer.build_config()

    def start_training(self) -> None:
        self.trainer.start()

    def update_actions(self) -> None:
        """Enable what can be done now (window_actions.update_actions)."""
        update_actions(self)

    def choose_runs_root(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Save new runs in", str(self.runs_root))
        if path:
            self.set_runs_root(path)
            self.statusBar().showMessage(f"New runs are saved in {path}.", 8000)

    def set_runs_root(self, path: str | Path) -> None:
        self.runs_root = Path(path)
        self.runs_page.set_root(self.runs_root)
        self.algorithm_panel.set_runs_root(self.runs_root)
        self.run_plan.forget_measurements()

    # --- runs, inspection, labelling -----------------------------------------------
    def inspect_run(self, run_dir: str) -> None:
        """Show the run on the Inspect page: its saved evaluation, or a new one computed in the background."""
        self.tabs.setCurrentWidget(self.inspect_page)
        self.inspect_page.open_run(run_dir)
        self.update_actions()

    def label_folder(self, folder: str) -> None:
        """Open `folder` on the Label page (a folder of images without classes is one to label)."""
        self.tabs.setCurrentWidget(self.label_page)
        self.label_page.open_folder(folder)

    def use_for_labelling(self, run_dir: str) -> None:
        """Open the Label page with the run's model, ready to adapt to the user's images."""
        self.tabs.setCurrentWidget(self.label_page)
        self.label_page.load_run(run_dir)

    def evaluate_selected_or_last(self) -> None:
        paths = self.runs_page.selected_paths()
        if len(paths) == 1:
            self.inspect_run(paths[0])
        elif self.last_finished is not None:
            self.inspect_run(self.last_finished.run_dir)
        else:
            self.tabs.setCurrentWidget(self.runs_page)
            self.statusBar().showMessage("Select one run in the list, then Evaluate (Ctrl+E).", 8000)

    # --- projects (project_controller.py) ------------------------------------------
    def save_current(self) -> bool:
        """Ctrl+S: the labelling session on the Label page, the project on every other page."""
        if self.tabs.currentWidget() is self.label_page:
            return self.label_page.save_session()
        return self.projects.save()

    def start_afresh(self) -> None:
        """Every page as in a new window: no dataset, run, labels, evaluation or message of the project before
        (its unsaved work was asked about first). The settings on the left are the state's: New and Open
        project set them."""
        self.data_panel.set_paths([])
        self.training_page.reset()
        self.label_page.reset()
        self.runs_page.table.clearSelection()
        self.inspect_page.reset()
        self.messages.clear_all()
        self.tabs.setCurrentWidget(self.dataset_view)
        self.update_actions()

    def _update_title(self) -> None:
        # [*] is where Qt shows the unsaved-changes marker while the window is modified.
        name = self.projects.project.name
        self.setWindowTitle(f"{name}[*] — {APP_TITLE}" if self.projects.path else f"{APP_TITLE}[*]")
        self.guard.update_title()

    def show_plugins(self) -> None:
        """Which plugins are loaded (or failed, with their error) and from which enabled folders."""
        PluginsDialog(self).exec()

    # --- drag and drop -----------------------------------------------------------
    def dragEnterEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if dropped_paths(event.mimeData()) and self.training is None:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:  # noqa: N802
        self.dragEnterEvent(event)

    def dropEvent(self, event) -> None:  # noqa: N802
        paths = dropped_paths(event.mimeData())
        if not paths or self.training is not None:
            event.ignore()
            return
        event.acceptProposedAction()
        self.drop_paths(paths)

    def drop_paths(self, paths: list[str]) -> None:
        """Load dropped dataset folders/zips (or open a dropped project file)."""
        projects = [p for p in paths if p.endswith(PROJECT_SUFFIX)]
        if projects:
            self.projects.open(projects[0])
            return
        self.tabs.setCurrentWidget(self.dataset_view)
        self.data_panel.set_paths(paths)
        self.settings.setValue("last_folders/data", str(Path(paths[0]).parent))

    # --- themes and settings -------------------------------------------------------
    def set_theme(self, name: str) -> None:
        name = apply_theme(name, root=self)
        self.actions.themes[name].setChecked(True)
        # Rich text takes its link colour when laid out: lay the first-screen text out again.
        hint = self.dataset_view.hint
        text = hint.text()
        hint.clear()
        hint.setText(text)
        self.settings.setValue("theme", name)

    @property
    def theme(self) -> str:
        return current_theme()

    def _restore_settings(self) -> None:
        geometry = self.settings.value("window/geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        self.set_theme(str(self.settings.value("theme", "light")))

    def _on_hint_link(self, link: str) -> None:
        actions = {"demo": create_demo_dataset, "open-folder": open_dataset_folder, "open-zip": open_dataset_zip,
                   "omniglot": get_omniglot, "open-project": lambda _window: self.projects.open_dialog()}
        if link in actions:
            actions[link](self)

    # --- help ----------------------------------------------------------------
    def show_shortcuts(self) -> None:
        """Every shortcut of the window, grouped by the page it works on."""
        self.shortcuts_dialog = ShortcutsDialog(window_shortcuts(self, self.pages()), self)
        self.shortcuts_dialog.open()

    def show_getting_started(self) -> None:
        self.tabs.setCurrentWidget(self.dataset_view)
        if self.scan is None:
            self.dataset_view.show_hint()
        else:
            self.banner.show_message(
                "Set N ways, K shots and Q queries on the left, pick an algorithm, then press Start training "
                "(Ctrl+R). Curves and predictions appear on the Training tab.", "info")

    def show_about(self) -> None:
        QMessageBox.about(self, f"About {APP_TITLE}",
                          f"<b>{APP_TITLE}</b><p>Train and compare few-shot learning algorithms on your own "
                          "image folders, with live curves and adapted predictions.</p>")

    # --- closing -------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt override)
        if not self.guard.confirm("quitting") or not self.training_page.stop_before_closing(
                self, lambda text: self.statusBar().showMessage(text)):
            event.ignore()
            return
        # No thread may outlive the window: each part stops its own and waits for it.
        self.datasets.stop()
        self.inspect_page.stop_jobs()
        self.label_page.shutdown()
        self.status_job.stop_and_wait()
        self.settings.setValue("window/geometry", self.saveGeometry())
        if self.data_panel.paths():
            self.settings.setValue("last_folders/data", str(Path(self.data_panel.paths()[0]).parent))
        self.settings.sync()
        self.training_page.shutdown()
        gc.unfreeze()  # let shutdown collect everything again, as without the freeze
        event.accept()
