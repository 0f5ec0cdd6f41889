"""The window's project: what it holds (datasets, runs folder, algorithm, inverting), new, open,
save, and the recent-projects menu. The file format is workbench.projects.project's.

It knows the state, the panels and pages a project holds (data panel, Label page), the algorithm
binding (what a form refused), the banner, the unsaved-work guard and the settings; of the window
only what ProjectHost lists (its runs folder, start afresh, its status bar).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Protocol

from PySide6.QtCore import QObject, QSettings, Signal
from PySide6.QtWidgets import QFileDialog, QMenu, QStatusBar, QWidget

from workbench import catalogue
from workbench.errors import WorkbenchError
from workbench.files import kind_of
from workbench.gui.banner import MessageBanner
from workbench.gui.data_panel import DataPanel
from workbench.gui.labelling import LabelPage
from workbench.gui.settings import push_recent, string_list
from workbench.gui.state_binding import AlgorithmBinding
from workbench.gui.unsaved_guard import UnsavedGuard
from workbench.projects.project import SUFFIX as PROJECT_SUFFIX
from workbench.projects.project import Project, load_project
from workbench.projects.state import TrainingSettings, WorkbenchState, load_state, project_of

PROJECT_FILTER = f"Workbench projects (*{PROJECT_SUFFIX});;All files (*)"


class ProjectHost(Protocol):
    """What a project asks of the window it is shown in."""

    @property
    def runs_root(self) -> Path: ...  # the folder new runs are made in now

    def set_runs_root(self, path: str | Path) -> None: ...

    def start_afresh(self) -> None: ...  # every page as in a new window

    def statusBar(self) -> QStatusBar: ...  # noqa: N802 (Qt's name)


class ProjectController(QObject):
    """Keeps `project` (and the file it was opened from or saved to, `path`) in step with the window.

    `state` and the data panel and Label page say what the project holds now (New resets the state to
    `first_settings`), `banner` explains a file that cannot be read, `guard` asks before unsaved work is
    dropped, `settings` keep the recent projects; `host` is the window (ProjectHost) and `parent` the
    dialogs' parent. `opened(Project)` fires after a project is opened; `titleChanged()` when the window
    title should follow.
    """

    opened = Signal(object)
    titleChanged = Signal()

    def __init__(self, *, state: WorkbenchState, first_settings: TrainingSettings, algorithm_binding: AlgorithmBinding,
                 data_panel: DataPanel, label_page: LabelPage, banner: MessageBanner, guard: UnsavedGuard,
                 settings: QSettings, host: ProjectHost, parent: QWidget) -> None:
        super().__init__(parent)
        self.state, self.first_settings, self.algorithm_binding = state, first_settings, algorithm_binding
        self.data_panel, self.label_page, self.banner = data_panel, label_page, banner
        self.guard, self.settings, self.host, self.parent_widget = guard, settings, host, parent
        self.project = Project()
        self.path: str | None = None
        self.recent_menu: QMenu | None = None  # File › Open recent project, once the menus exist

    def current(self) -> Project:
        """The project as the window holds it now: its state (every setting on the left, each algorithm's
        settings), the datasets, the runs folder and the Label page's session and run."""
        state, label_page = self.state, self.label_page
        state.datasets = tuple(self.data_panel.paths())
        state.runs_root = str(self.host.runs_root)
        state.labelling_session = label_page.session_path or ""
        state.labelling_run = label_page.model_run_dir or ""
        return project_of(state, self.project.name)

    def new(self) -> None:
        if not self.guard.confirm("starting a new project"):
            return
        self.project, self.path = Project(), None
        self.host.start_afresh()
        self.state.reset(self.first_settings)  # every setting as a new window has it, and every view shows it
        self.titleChanged.emit()
        self.host.statusBar().showMessage("New project: choose a dataset to begin.", 8000)

    def open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.parent_widget, "Open a project", self.last_folder(),
                                              PROJECT_FILTER)
        if path:
            self.open(path)

    def open(self, path: str) -> bool:
        """Open a project file; a missing or invalid one is explained in the banner (returns False)."""
        if not self.guard.confirm("opening another project"):
            return False
        try:
            project = load_project(path)
        except WorkbenchError as exc:
            self.banner.show_message(str(exc), "error")
            return False
        self.host.start_afresh()  # nothing of the project before stays on screen
        self.project, self.path = project, str(Path(path).resolve())
        warnings = []  # one strip says them all: a later one must not hide an earlier one
        unusable = runs_root_problem(project.runs_root) if project.runs_root else ""
        if unusable:  # /dev/zero or a link loop as the runs folder: every run written there would fail
            warnings.append(f"The project's runs folder {project.runs_root} {unusable}; runs stay in "
                            f"{self.host.runs_root}.")
        elif project.runs_root:
            self.host.set_runs_root(project.runs_root)
        dropped = load_state(self.state, project, set(catalogue.available())) + self.algorithm_binding.dropped
        session, run = self.state.labelling_session, self.state.labelling_run  # before anything reads the page
        if dropped:
            warnings.append(f"The project {Path(path).name} opened without these settings, which this version "
                            f"cannot use: {', '.join(dropped)}. The rest is as it was saved.")
        self.data_panel.set_paths(project.datasets)
        warnings.append(self._reopen_labelling(session, run))
        if any(warnings):
            self.banner.show_message(" ".join(w for w in warnings if w), "warning")
        self.guard.mark_project_saved()
        self._remember_recent(self.path)
        self.titleChanged.emit()
        self.host.statusBar().showMessage(f"Opened project {project.name}.", 8000)
        self.opened.emit(project)
        return True

    def _reopen_labelling(self, session: str, run: str) -> str:
        """The Label page as the project left it: its session file (which names its run), else its run. Returns
        why the session could not be opened, or ''."""
        label_page = self.label_page
        if session:
            if not Path(session).is_file():
                return f"The project's labelling session {session} is not a file that can be opened; open another " \
                       "on the Label page."
            label_page.open_session(session)
        elif run and Path(run).is_dir():
            label_page.load_run(run)
        return ""

    def save(self, ask: bool = False, path: str | None = None) -> bool:
        """Save to `path`, else to the project's file (asking where the first time, or when `ask`)."""
        path = path or (None if ask else self.path)
        if path is None:
            start = str(Path(self.last_folder()) / f"{self.project.name}{PROJECT_SUFFIX}")
            path, _ = QFileDialog.getSaveFileName(self.parent_widget, "Save the project", start, PROJECT_FILTER)
            if not path:
                return False
            if not path.endswith(PROJECT_SUFFIX):
                path += PROJECT_SUFFIX
        project = self.current()
        if project.name == "Untitled":
            project.name = Path(path).stem
        try:
            project.save(path)
        except WorkbenchError as exc:
            self.banner.show_message(str(exc), "error")
            return False
        self.project, self.path = project, str(Path(path).resolve())
        self.guard.mark_project_saved()
        self._remember_recent(self.path)
        self.titleChanged.emit()
        self.host.statusBar().showMessage(f"Saved project {project.name} in {path}.", 8000)
        return True

    def last_folder(self) -> str:
        return str(self.settings.value("last_folders/projects", str(Path.cwd())))

    # --- recent projects -----------------------------------------------------------
    def recent(self) -> list[str]:
        return string_list(self.settings, "recent_projects")

    def _remember_recent(self, path: str) -> None:
        settings = self.settings
        push_recent(settings, "recent_projects", path)
        settings.setValue("last_folders/projects", str(Path(path).parent))
        self.update_recent_menu()

    def update_recent_menu(self) -> None:
        menu = self.recent_menu
        if menu is None:
            return
        menu.clear()
        recent = self.recent()
        for number, path in enumerate(recent, start=1):
            action = menu.addAction(f"&{number} {Path(path).name}", lambda p=path: self.open(p))
            action.setToolTip(path)
        if not recent:
            menu.addAction("(none yet)").setEnabled(False)


def runs_root_problem(path: str) -> str:
    """Why `path` cannot hold runs ('is a device, not a folder'), or '' when it can (a missing one is made)."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return ""
    except (OSError, ValueError) as exc:
        return f"cannot be reached ({getattr(exc, 'strerror', None) or exc})"
    if stat.S_ISDIR(mode):
        return ""
    return "is a file, not a folder" if stat.S_ISREG(mode) else f"is {kind_of(mode)}, not a folder"
