"""The Label page: open a folder, make classes, label a few images, adapt, auto-label, export."""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QItemSelection, QItemSelectionModel, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence, QUndoStack
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QMenu,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QSplitter,
    QStackedWidget,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from workbench.algorithms.base import Algorithm
from workbench.errors import WorkbenchError
from workbench.gui.banner import MessageBanner
from workbench.gui.elided_label import ElidedLabel, horizontal_scroller
from workbench.gui.labelling import export_actions
from workbench.gui.labelling.autosave import SessionKeeper
from workbench.gui.labelling.class_list import ClassList
from workbench.gui.labelling.colors import class_color
from workbench.gui.labelling.commands import OperationCommand
from workbench.gui.labelling.grid_model import ALL, LABELLED, UNLABELLED, GridFilterProxy, ImageGridModel
from workbench.gui.labelling.grid_view import ImageGrid
from workbench.gui.labelling.worker import AdaptThread
from workbench.labelling import operations as ops
from workbench.adaptation.for_run import policy_for_run
from workbench.labelling.adapter import Adapter, AdaptResult
from workbench.labelling.operations import Operation
from workbench.labelling.session import ACCEPTED, HUMAN, LabelSession
from workbench.labelling.session_file import SUFFIX, load_session, save_session
from workbench.labelling.suggestions import (
    accept_predictions, confident_predictions, describe_acceptance, least_confident,
)
from workbench.runs.model_loading import load_trained

SESSION_FILTER = f"Labelling sessions (*{SUFFIX});;JSON files (*.json)"
FIRST_HINT = ("<h3>Label a few images, let the model label the rest</h3>"
              "<ol><li><b>Open a folder</b> of unlabelled images (toolbar, or Ctrl+Shift+L).</li>"
              "<li><b>Choose a trained run</b> under Model (or train one on the Training tab).</li>"
              "<li><b>Add classes</b> and label a few images: drag them onto a class, select them and press "
              "1–9, or click a class button.</li>"
              "<li>Press <b>Adapt</b>: every other image gets a predicted class and a confidence.</li>"
              "<li><b>Suggest</b> shows the least confident ones to label next; <b>Accept</b> takes the confident "
              "ones as labels. Export a CSV or copy the images into class folders.</li></ol>")


class LabelPage(QWidget):
    """Label images of a folder and let a trained few-shot model adapt to the labels and predict the rest.

    Promises: every change to labels and classes is undoable (Ctrl+Z / Ctrl+Shift+Z);
    adapting runs on a worker thread, so the page never waits on the model; errors
    show in the page's banner, never as a traceback. `set_model` takes any
    registered algorithm; `load_run` takes it from a run folder.
    """

    predictionsUpdated = Signal()  # after each adapt's predictions are shown

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.session: LabelSession | None = None
        self.session_path: str | None = None
        self.model_description = ""
        self.has_model = False
        self.loads_pending = 0
        self.request_id = 0
        self.pending_request: int | None = None
        self.adapt_again = False
        self.adapt_when_loaded = False
        self.request_started = 0.0
        self.last_result: AdaptResult | None = None
        self.last_latency_ms = 0.0
        self.offered_run: str | None = None
        self.model_run_dir: str | None = None
        self.undo_stack = QUndoStack(self)
        self.keeper = SessionKeeper(self)  # autosave, restore, and Save / Discard / Cancel
        self.adapt_thread = AdaptThread(self)
        self.adapt_thread.loading.connect(self._on_loading)
        self.adapt_thread.loaded.connect(self._on_loaded)
        self.adapt_thread.predicted.connect(self._on_predicted)
        self.adapt_thread.failed.connect(self._on_adapt_failed)
        app = QApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)

        self.model = ImageGridModel(self)
        self.proxy = GridFilterProxy(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.sort(0)
        self._make_actions()
        self._build()
        self._update_state()

    # --- building ------------------------------------------------------------
    def _action(self, text: str, slot, shortcut=None, tip: str = "") -> QAction:
        action = QAction(text, self)
        action.triggered.connect(lambda checked=False: slot())
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        if tip:
            action.setToolTip(tip)
        self.addAction(action)
        return action

    def _make_actions(self) -> None:
        self.open_folder_action = self._action("Open folder…", self.open_folder, "Ctrl+Shift+L",
                                               "Open a folder of images to label (Ctrl+Shift+L).")
        self.open_session_action = self._action("Open session…", self.open_session, None,
                                                "Reopen a saved labelling session.")
        # Ctrl+S is the window's: on this page it calls save_session (one action, no ambiguity).
        self.save_session_action = self._action("Save session…", lambda: self.save_session(ask=True), None,
                                                "Save the folder, classes, labels, model and threshold (Ctrl+S).")
        # Fixed texts keep the toolbar still; the tooltip names what would be undone.
        self.undo_action = self._action("Undo", self.undo_stack.undo, QKeySequence.StandardKey.Undo)
        self.redo_action = self._action("Redo", self.undo_stack.redo, "Ctrl+Shift+Z")
        self.redo_action.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        self.undo_stack.canUndoChanged.connect(self.undo_action.setEnabled)
        self.undo_stack.canRedoChanged.connect(self.redo_action.setEnabled)
        self.undo_stack.undoTextChanged.connect(lambda text: self.undo_action.setToolTip(f"Undo: {text} (Ctrl+Z)"))
        self.undo_stack.redoTextChanged.connect(lambda text: self.redo_action.setToolTip(f"Redo: {text} (Ctrl+Shift+Z)"))
        self.undo_action.setEnabled(False)
        self.redo_action.setEnabled(False)
        self.export_csv_action = self._action("Export CSV…", self.export_csv, None,
                                              "Write path, label, confidence and source of every image.")
        self.copy_action = self._action("Copy labelled images into class folders…",
                                        lambda: self.export_to_folders(move=False))
        self.move_action = self._action("Move labelled images into class folders…",
                                        lambda: self.export_to_folders(move=True))
        self.adapt_action = self._action("Adapt", self.adapt, "Ctrl+Return",
                                         "Adapt the model to the labelled images and predict the others (Ctrl+Enter).")

    def _build(self) -> None:
        self.banner = MessageBanner()
        self.offer = QFrame()
        self.offer.setObjectName("labelOffer")
        self.offer.setStyleSheet("#labelOffer { background: #e3f2fd; border: 1px solid #64b5f6; border-radius: 4px; }")
        self.offer_label = ElidedLabel()
        self.offer_button = QPushButton("Use this model for labelling")
        self.offer_button.clicked.connect(lambda: self.offered_run and self.load_run(self.offered_run))
        offer_layout = QHBoxLayout(self.offer)
        offer_layout.setContentsMargins(10, 4, 6, 4)
        offer_layout.addWidget(self.offer_label, 1)
        offer_layout.addWidget(self.offer_button)
        self.offer.hide()

        toolbar = QToolBar()
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        for action in (self.open_folder_action, self.open_session_action, self.save_session_action):
            toolbar.addAction(action)
        toolbar.addSeparator()
        toolbar.addAction(self.undo_action)
        toolbar.addAction(self.redo_action)
        toolbar.addSeparator()
        toolbar.addAction(self.export_csv_action)
        folders = QToolButton()
        folders.setText("Class folders…")
        folders.setToolTip("Copy (or move) the labelled images into one folder per class; nothing is overwritten.")
        folders.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(folders)
        menu.addAction(self.copy_action)
        menu.addAction(self.move_action)
        folders.setMenu(menu)
        toolbar.addWidget(folders)
        self.folders_button = folders

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.banner)
        layout.addWidget(self.offer)
        layout.addWidget(toolbar)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self._build_side())
        split.addWidget(self._build_grid_area())
        split.setStretchFactor(1, 1)
        split.setSizes([290, 900])
        layout.addWidget(split, 1)

    def _build_side(self) -> QWidget:
        side = QWidget()
        column = QVBoxLayout(side)
        column.setContentsMargins(0, 0, 4, 0)

        model_box = QGroupBox("Model")
        model_layout = QVBoxLayout(model_box)
        self.model_label = QLabel()
        self.model_label.setWordWrap(True)
        self.choose_run_button = QPushButton("Choose run…")
        self.choose_run_button.setToolTip("Use the best weights of a trained run folder (runs/…).")
        self.choose_run_button.clicked.connect(lambda: self.load_run())
        model_layout.addWidget(self.model_label)
        model_layout.addWidget(self.choose_run_button)

        class_box = QGroupBox("Classes")
        class_layout = QVBoxLayout(class_box)
        self.class_list = ClassList()
        self.class_list.pathsDropped.connect(self.label_paths)
        self.class_list.itemDoubleClicked.connect(lambda item: self.rename_class())
        buttons = QHBoxLayout()
        self.add_class_button = QPushButton("Add")
        self.add_class_button.setToolTip("Add a class.")
        self.add_class_button.clicked.connect(lambda: self.add_class())
        self.rename_class_button = QPushButton("Rename")
        self.rename_class_button.clicked.connect(lambda: self.rename_class())
        self.remove_class_button = QPushButton("Remove")
        self.remove_class_button.setToolTip("Remove the chosen class and its labels (undoable).")
        self.remove_class_button.clicked.connect(lambda: self.remove_class())
        for button in (self.add_class_button, self.rename_class_button, self.remove_class_button):
            buttons.addWidget(button)
        class_hint = QLabel("Drag images onto a class, or select them and press 1–9 (0 clears).")
        class_hint.setObjectName("hint")
        class_hint.setWordWrap(True)
        class_layout.addWidget(self.class_list, 1)
        class_layout.addLayout(buttons)
        class_layout.addWidget(class_hint)

        adapt_box = QGroupBox("Adapt and predict")
        adapt_layout = QVBoxLayout(adapt_box)
        self.adapt_button = QPushButton("Adapt")
        self.adapt_button.setObjectName("adaptButton")
        self.adapt_button.setToolTip(self.adapt_action.toolTip())
        self.adapt_button.clicked.connect(self.adapt)
        self.auto_adapt = QCheckBox("Adapt on every new label")
        self.auto_adapt.setChecked(True)
        self.auto_adapt.setToolTip("Predict again after every change to the labels.")
        self.adapt_status = QLabel("")
        self.adapt_status.setObjectName("hint")
        self.adapt_status.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.hide()
        adapt_layout.addWidget(self.adapt_button)
        adapt_layout.addWidget(self.auto_adapt)
        adapt_layout.addWidget(self.progress)
        adapt_layout.addWidget(self.adapt_status)

        next_box = QGroupBox("Label next / auto-label")
        grid = QGridLayout(next_box)
        self.suggest_count = QSpinBox()
        self.suggest_count.setRange(1, 500)
        self.suggest_count.setValue(8)
        self.suggest_count.setSuffix(" images")
        self.suggest_count.setToolTip("How many of the least confident images to select.")
        self.suggest_button = QPushButton("Suggest")
        self.suggest_button.setToolTip("Select the unlabelled images the model is least sure about: label these next.")
        self.suggest_button.clicked.connect(lambda: self.suggest())
        self.threshold = QDoubleSpinBox()
        self.threshold.setRange(0, 100)
        self.threshold.setDecimals(0)
        self.threshold.setSuffix(" %")
        self.threshold.setValue(90)
        self.threshold.setToolTip("Predictions at least this confident can be accepted as labels at once.")
        self.threshold.valueChanged.connect(self._on_threshold)
        self.accept_selected_button = QPushButton("Accept selected")
        self.accept_selected_button.setToolTip("Take the predictions of the selected images as their labels.")
        self.accept_selected_button.clicked.connect(self.accept_selected)
        self.accept_all_button = QPushButton("Accept all ≥ threshold")
        self.accept_all_button.setToolTip("Take every prediction at or above the threshold as a label (undoable).")
        self.accept_all_button.clicked.connect(self.accept_all)
        grid.addWidget(self.suggest_button, 0, 0)
        grid.addWidget(self.suggest_count, 0, 1)
        grid.addWidget(QLabel("Threshold"), 1, 0)
        grid.addWidget(self.threshold, 1, 1)
        grid.addWidget(self.accept_selected_button, 2, 0, 1, 2)
        grid.addWidget(self.accept_all_button, 3, 0, 1, 2)  # a row each: never clipped at the side's width

        column.addWidget(model_box)
        column.addWidget(class_box, 1)
        column.addWidget(adapt_box)
        column.addWidget(next_box)
        side.setMinimumWidth(270)
        side.setMaximumWidth(380)
        return side

    def _build_grid_area(self) -> QWidget:
        area = QWidget()
        column = QVBoxLayout(area)
        column.setContentsMargins(4, 0, 0, 0)
        self.class_buttons = QWidget()
        self.class_buttons_layout = QHBoxLayout(self.class_buttons)
        self.class_buttons_layout.setContentsMargins(0, 0, 0, 0)

        view_row = QHBoxLayout()
        self.class_filter = QComboBox()
        self.class_filter.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.class_filter.setToolTip("Show only the images of one class (labelled or predicted as it).")
        self.class_filter.currentIndexChanged.connect(self._apply_filter)
        self.confidence_filter = QComboBox()
        self.confidence_filter.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        for text, mode in (("Any confidence", "any"), ("Predicted ≥ threshold", "at least"),
                           ("Predicted < threshold", "below")):
            self.confidence_filter.addItem(text, mode)
        self.confidence_filter.setToolTip("Show only unlabelled images predicted above or below the threshold.")
        self.confidence_filter.currentIndexChanged.connect(self._apply_filter)
        self.sort_by = QComboBox()
        for text, key in (("File name", "name"), ("Confidence (least first)", "confidence"), ("Class", "class")):
            self.sort_by.addItem(text, key)
        self.sort_by.currentIndexChanged.connect(lambda: self.proxy.set_sort(self.sort_by.currentData()))
        view_row.addWidget(QLabel("Show"))
        view_row.addWidget(self.class_filter)
        view_row.addWidget(self.confidence_filter)
        view_row.addSpacing(12)
        view_row.addWidget(QLabel("Sort by"))
        view_row.addWidget(self.sort_by)
        view_row.addStretch(1)

        self.grid = ImageGrid()
        self.grid.setModel(self.proxy)
        self.grid.numberPressed.connect(self.label_selected_number)
        self.grid.clearPressed.connect(self.clear_selected)
        self.grid.selectionModel().selectionChanged.connect(lambda *_: self._update_state())
        self.hint = QLabel(FIRST_HINT)
        self.hint.setObjectName("firstHint")
        self.hint.setWordWrap(True)
        self.hint.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.hint)
        self.stack.addWidget(self.grid)
        self.summary = ElidedLabel("")  # holds the folder's path: elided, never widening the window
        self.summary.setObjectName("hint")

        column.addWidget(horizontal_scroller(self.class_buttons))  # many classes scroll instead of widening
        column.addLayout(view_row)
        column.addWidget(self.stack, 1)
        column.addWidget(self.summary)
        return area

    # --- folder and session --------------------------------------------------
    def open_folder(self, path: str | None = None) -> None:
        if path is None:
            path = QFileDialog.getExistingDirectory(self, "Open a folder of images to label", self._start_dir())
            if not path:
                return
        try:
            session = LabelSession.open_folder(path)
        except WorkbenchError as exc:
            self.banner.show_message(str(exc), "error")
            return
        if not self.keeper.confirm_replace("opening another folder"):
            return
        restored = self.keeper.offer_restore(session)  # the labels of a session that ended without saving
        if restored is not None:
            self._show_loaded(restored, None)
        else:
            self.session_path = None
            self.set_session(session)

    def set_session(self, session: LabelSession, warnings: list[str] | None = None) -> None:
        """Show `session` (a new folder or a reopened file); the undo history starts afresh."""
        self.banner.clear()
        self.undo_stack.clear()
        self.session = session
        self.last_result = None
        self.threshold.blockSignals(True)
        self.threshold.setValue(round(session.threshold * 100))
        self.threshold.blockSignals(False)
        self.proxy.threshold = session.threshold
        self.model.set_session(session)
        self.stack.setCurrentWidget(self.grid)
        if self.has_model:
            session.model_run_dir = session.model_run_dir or self.model_run_dir
            self._load_images()
        self._session_changed(adapt=False)
        if warnings:
            self.banner.show_message(" ".join(warnings), "warning")

    def save_session(self, path: str | None = None, ask: bool = False) -> bool:
        """Save to `path`, else to the file it was saved to (asking where the first time, or when `ask`)."""
        if self.session is None:
            self.banner.show_message("Open a folder of images first; there is no session to save yet.", "info")
            return False
        path = path or (None if ask else self.session_path)
        if path is None:
            start = self.session_path or str(Path(self.session.folder).parent / f"{Path(self.session.folder).name}{SUFFIX}")
            path, _ = QFileDialog.getSaveFileName(self, "Save the labelling session", start, SESSION_FILTER)
            if not path:
                return False
        try:
            save_session(self.session, path)
        except WorkbenchError as exc:
            self.banner.show_message(str(exc), "error")
            return False
        self.session_path = path
        self.undo_stack.setClean()
        self._status(f"Session saved to {path}.")
        return True

    def open_session(self, path: str | None = None) -> None:
        if path is None:
            path, _ = QFileDialog.getOpenFileName(self, "Open a labelling session", self._start_dir(), SESSION_FILTER)
            if not path:
                return
        try:
            loaded = load_session(path)
        except WorkbenchError as exc:
            self.banner.show_message(str(exc), "error")
            return
        if self.keeper.confirm_replace("opening another session"):
            self._show_loaded(loaded, path)

    def _show_loaded(self, loaded, path: str | None) -> None:
        self.session_path = path
        run_dir = loaded.session.model_run_dir
        self.set_session(loaded.session, loaded.warnings)
        if run_dir and run_dir != self.model_run_dir:
            if Path(run_dir).is_dir():
                self.load_run(run_dir)
            else:
                self.banner.show_message(f"The session's model run folder {run_dir} is gone; choose another run "
                                         "under Model to adapt.", "warning")

    def _start_dir(self) -> str:
        return str(Path(self.session.folder).parent) if self.session else str(Path.cwd())

    # --- model ---------------------------------------------------------------
    def offer_run(self, run_dir: str) -> None:
        """A run just finished training: offer to use it here (a strip with one button)."""
        self.offered_run = str(run_dir)
        self.offer_label.setText(f"Training finished: {Path(run_dir).name}.")
        self.offer.show()

    def load_run(self, run_dir: str | None = None) -> bool:
        """Load the best weights of a trained run folder and use that model; False (and a banner) if it cannot."""
        if run_dir is None:
            run_dir = QFileDialog.getExistingDirectory(self, "Choose a trained run folder", str(Path.cwd() / "runs"))
            if not run_dir:
                return False
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            algorithm, config = load_trained(str(run_dir))
        except WorkbenchError as exc:
            self.banner.show_message(str(exc), "error")
            return False
        finally:
            QApplication.restoreOverrideCursor()
        self.set_model(algorithm, config.image_size, config.channels,
                       f"{algorithm.title}, {config.image_size}×{config.image_size} "
                       f"{'gray' if config.channels == 1 else 'RGB'}{', inverted' if config.invert else ''}, "
                       f"from run {Path(run_dir).name}", str(run_dir), invert=config.invert)
        return True

    def set_model(self, algorithm: Algorithm, image_size: int, channels: int, description: str = "",
                  run_dir: str | None = None, invert: bool = False) -> None:
        """Use `algorithm` (any registered one, already trained) for adapting; images are decoded at
        `image_size` with `channels` (and inverted when the run was trained so) in the background,
        once per model and folder. The thumbnails are never inverted."""
        algorithm.train_mode(False)
        # The run's measured temperatures make the confidences calibrated (adaptation/for_run.py); fine-tuning
        # is left out of `auto` here, so each adapt takes milliseconds, not seconds.
        policy = policy_for_run(run_dir, algorithm, fine_tune=False) if run_dir else None
        adapter = Adapter(algorithm, image_size, channels, description, invert, policy)
        self.adapt_thread.start()
        self.adapt_thread.set_adapter.emit(adapter)
        self.has_model = True
        self.model_run_dir = run_dir
        self.model_description = adapter.description
        if run_dir and self.offered_run == run_dir:
            self.offer.hide()
        if self.session is not None:
            self.session.model_run_dir = run_dir
            self.session.predictions = {}
            self.model.refresh()
            self._load_images()
            self.adapt_when_loaded = self.auto_adapt.isChecked()
        self._update_state()

    def _load_images(self) -> None:
        self.loads_pending += 1
        self.progress.setRange(0, max(len(self.session.images), 1))
        self.progress.setValue(0)
        self.progress.setFormat("Decoding images for the model… %p%")
        self.progress.show()
        self.adapt_thread.load.emit(self.session.folder, list(self.session.images))
        self._update_state()

    def _on_loading(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)

    def _on_loaded(self, count: int, problems: dict) -> None:
        self.loads_pending = max(self.loads_pending - 1, 0)
        if self.loads_pending:
            return
        self.progress.hide()
        if problems:
            first = next(iter(problems.items()))
            self.banner.show_message(f"{len(problems)} image(s) cannot be read and are left out "
                                     f"(first: {first[0]}: {first[1]}).", "warning")
        if self.adapt_when_loaded or self.auto_adapt.isChecked():
            self.adapt_when_loaded = False
            self._request_adapt(quiet=True)
        self._update_state()

    @property
    def images_ready(self) -> bool:
        return self.has_model and self.loads_pending == 0

    # --- classes and labels --------------------------------------------------
    def push(self, operation: Operation) -> None:
        """Apply an operation through the undo stack."""
        self.undo_stack.push(OperationCommand(operation, self.session, self._session_changed))

    def _try(self, build) -> None:
        if self.session is None:
            self.banner.show_message("Open a folder of images first (toolbar › Open folder…).", "info")
            return
        try:
            operation = build()
        except WorkbenchError as exc:
            self.banner.show_message(str(exc), "error")
            return
        if operation is not None:
            self.push(operation)

    def add_class(self, name: str | None = None) -> None:
        if self.session is not None and name is None:
            name, ok = QInputDialog.getText(self, "Add a class", "Class name:", text=ops.next_class_name(self.session))
            if not ok:
                return
        self._try(lambda: ops.add_class(self.session, name))

    def rename_class(self, old: str | None = None, new: str | None = None) -> None:
        old = old or self.class_list.current_name()
        if old is None:
            self.banner.show_message("Choose the class to rename in the class list first.", "info")
            return
        if new is None:
            new, ok = QInputDialog.getText(self, "Rename class", f"New name for '{old}':", text=old)
            if not ok or new == old:
                return
        self._try(lambda: ops.rename_class(self.session, old, new))

    def remove_class(self, name: str | None = None) -> None:
        name = name or self.class_list.current_name()
        if name is None:
            self.banner.show_message("Choose the class to remove in the class list first.", "info")
            return
        self._try(lambda: ops.remove_class(self.session, name))

    def label_paths(self, name: str | None, paths: list[str]) -> None:
        """Label `paths` as `name` (None clears) by a person, as one undoable step."""
        if paths:
            self._try(lambda: ops.label_images(self.session, list(paths), name))

    def label_selected_number(self, number: int) -> None:
        if self.session is None:
            return
        if number > len(self.session.classes):
            self.banner.show_message(f"There is no class {number} yet: add classes under Classes "
                                     f"(there {'is' if len(self.session.classes) == 1 else 'are'} "
                                     f"{len(self.session.classes)}).", "info")
            return
        self.label_selected(self.session.classes[number - 1])

    def label_selected(self, name: str | None) -> None:
        paths = self.grid.selected_paths()
        if not paths:
            self._status("Select images in the grid first (click, Shift/Ctrl+click, or drag a rectangle).")
            return
        self.label_paths(name, paths)

    def clear_selected(self) -> None:
        self.label_selected(None)

    # --- adapting ------------------------------------------------------------
    def adapt(self) -> None:
        """Adapt the model to the labels and predict every unlabelled image (on the worker thread)."""
        if self.session is None:
            self.banner.show_message("Open a folder of images first (toolbar › Open folder…).", "info")
            return
        if not self.has_model:
            self.banner.show_message("Choose a trained model first: Model › Choose run… (or train one on the "
                                     "Training tab and use it from there).", "info")
            return
        if not self.images_ready:
            self.adapt_when_loaded = True
            self._status("Adapting as soon as the images are decoded…")
            return
        self._request_adapt(quiet=False)

    def _labelled_classes(self) -> int:
        return len({label.name for label in self.session.labels.values()}) if self.session else 0

    def _request_adapt(self, quiet: bool) -> None:
        if self.session is None or not self.images_ready:
            return
        if self._labelled_classes() < 2:
            if not quiet:
                self.banner.show_message("Label at least one image in each of two classes, then adapt.", "info")
            return
        if self.pending_request is not None:
            self.adapt_again = True  # the newest labels win; requests in between are skipped
            return
        self.request_id += 1
        self.pending_request = self.request_id
        self.request_started = time.perf_counter()
        labels = {path: label.name for path, label in self.session.labels.items()}
        self.adapt_thread.predict.emit(self.request_id, labels, list(self.session.classes), self.session.unlabelled())
        self.adapt_status.setText("Adapting…")
        self._update_state()

    def _on_predicted(self, request: int, result: AdaptResult) -> None:
        if request != self.pending_request:
            return
        self.pending_request = None
        self.last_latency_ms = (time.perf_counter() - self.request_started) * 1000
        if self.session is not None:
            self.last_result = result
            self.session.predictions = dict(result.predictions)
            self.model.refresh()
            self._update_summary()
            self.adapt_status.setText(
                f"Adapted to {result.support_count} labelled image(s) in {len(result.classes)} classes; "
                f"predicted {len(result.predictions)} in {self.last_latency_ms:.0f} ms.")
            self.adapt_status.setToolTip(f"Adapted with {result.reason}." if result.reason else "")
        self._finish_request()
        self.predictionsUpdated.emit()

    def _on_adapt_failed(self, request: int, message: str) -> None:
        if request == 0:  # decoding for the model failed; the page stays usable for labelling
            self.banner.show_message(message, "error")
            return
        if request != self.pending_request:
            return
        self.pending_request = None
        self.adapt_status.setText("")
        self.banner.show_message(message, "error")
        self._finish_request()

    def _finish_request(self) -> None:
        if self.adapt_again:
            self.adapt_again = False
            self._request_adapt(quiet=True)
        self._update_state()

    @property
    def adapting(self) -> bool:
        return self.pending_request is not None or self.adapt_again or self.adapt_when_loaded or self.loads_pending > 0

    # --- suggestions and auto-labelling ---------------------------------------
    def suggest(self, k: int | None = None) -> list[str]:
        """Select (and scroll to) the k unlabelled images predicted with the least confidence."""
        if self.session is None:
            return []
        paths = least_confident(self.session, k or self.suggest_count.value())
        if not paths:
            self.banner.show_message("Adapt first: suggestions are the unlabelled images the model is least sure "
                                     "about.", "info")
            return []
        self.class_filter.setCurrentIndex(0)
        self.confidence_filter.setCurrentIndex(0)
        self.select_paths(paths)
        self._status(f"Selected the {len(paths)} least confident image(s), least first "
                     f"({self.session.predictions[paths[0]].confidence:.0%}): label these next.")
        return paths

    def select_paths(self, paths: list[str]) -> None:
        selection = QItemSelection()
        first = None
        for path in paths:
            row = self.model.row_of.get(path)
            if row is None:
                continue
            index = self.proxy.mapFromSource(self.model.index(row))
            if index.isValid():
                selection.select(index, index)
                first = first or index
        flags = QItemSelectionModel.SelectionFlag.ClearAndSelect
        self.grid.selectionModel().select(selection, flags)
        if first is not None:
            self.grid.setCurrentIndex(first)
            self.grid.selectionModel().select(selection, flags)
            self.grid.scrollTo(first)
        self.grid.setFocus()

    def accept_selected(self) -> None:
        paths = self.grid.selected_paths()
        if not paths:
            self._status("Select images with predictions first.")
            return
        self._try(lambda: accept_predictions(self.session, 0.0, paths))

    def accept_all(self) -> None:
        self._try(lambda: accept_predictions(self.session, self.threshold.value() / 100.0))

    def _on_threshold(self, value: float) -> None:
        if self.session is not None:
            self.session.threshold = value / 100.0
        self.proxy.set_filter(self.proxy.class_filter, self.proxy.confidence_mode, value / 100.0)
        self._update_state()

    # --- export (workbench/gui/labelling/export_actions.py) -------------------
    def export_csv(self, path: str | None = None) -> None:
        export_actions.export_csv(self, path)

    def export_to_folders(self, target: str | None = None, move: bool = False) -> None:
        export_actions.export_to_folders(self, target, move)

    # --- keeping the view in step --------------------------------------------
    def _session_changed(self, adapt: bool = True) -> None:
        session = self.session
        if session is None:
            return
        self.model.refresh()
        self.class_list.set_classes(session.classes, session.counts())
        self._rebuild_class_buttons()
        self._rebuild_class_filter()
        self._update_summary()
        self._update_state()
        if adapt and self.auto_adapt.isChecked():
            self._request_adapt(quiet=True)

    def _rebuild_class_buttons(self) -> None:
        layout = self.class_buttons_layout
        while layout.count():
            item = layout.takeAt(0)
            if item.widget():
                item.widget().deleteLater()
        classes = self.session.classes if self.session else []
        layout.addWidget(QLabel("Label selected as:" if classes else "Add classes to label images."))
        self.class_button_list: list[QPushButton] = []
        for i, name in enumerate(classes):
            button = QPushButton(f"{i + 1} · {name}" if i < 9 else name)
            color = class_color(i).name()
            button.setStyleSheet(f"QPushButton {{ border: 2px solid {color}; border-radius: 4px; padding: 3px 8px; }}"
                                 f"QPushButton:hover {{ background: {color}; color: white; }}")
            button.setToolTip(f"Label the selected images '{name}'" + (f" (key {i + 1})." if i < 9 else "."))
            button.clicked.connect(lambda checked=False, n=name: self.label_selected(n))
            layout.addWidget(button)
            self.class_button_list.append(button)
        if classes:
            clear = QPushButton("0 · Clear")
            clear.setToolTip("Remove the labels of the selected images (0 or Backspace).")
            clear.clicked.connect(self.clear_selected)
            layout.addWidget(clear)
        layout.addStretch(1)

    def _rebuild_class_filter(self) -> None:
        current = self.class_filter.currentData()
        self.class_filter.blockSignals(True)
        self.class_filter.clear()
        self.class_filter.addItem("All images", ALL)
        self.class_filter.addItem("Unlabelled", UNLABELLED)
        self.class_filter.addItem("Labelled", LABELLED)
        for name in self.session.classes:
            self.class_filter.addItem(f"Class: {name}", name)
        found = self.class_filter.findData(current)
        self.class_filter.setCurrentIndex(max(found, 0))
        self.class_filter.blockSignals(False)
        if found < 0 and current is not None:
            self._apply_filter()

    def _apply_filter(self) -> None:
        self.proxy.set_filter(self.class_filter.currentData(), self.confidence_filter.currentData() or "any",
                              self.threshold.value() / 100.0)
        self._update_summary()

    def _update_summary(self) -> None:
        session = self.session
        if session is None:
            self.summary.setText("")
            return
        human = sum(1 for label in session.labels.values() if label.source == HUMAN)
        accepted = sum(1 for label in session.labels.values() if label.source == ACCEPTED)
        predicted = sum(1 for p in session.predictions if p not in session.labels)
        self.summary.setText(f"{session.folder}: {len(session.images):,} images · {human:,} labelled by hand · "
                             f"{accepted:,} accepted predictions · {predicted:,} predicted · "
                             f"showing {self.proxy.rowCount():,}")

    def _update_state(self) -> None:
        has_session = self.session is not None
        selected = bool(self.grid.selectionModel().selectedIndexes()) if has_session else False
        has_predictions = has_session and bool(self.session.predictions)
        self.model_label.setText(self.model_description or
                                 "No model yet. Choose a trained run folder, or train one on the Training tab.")
        for action in (self.save_session_action, self.export_csv_action):
            action.setEnabled(has_session)
        self.folders_button.setEnabled(has_session)
        self.add_class_button.setEnabled(has_session)
        has_classes = has_session and bool(self.session.classes)
        self.rename_class_button.setEnabled(has_classes)
        self.remove_class_button.setEnabled(has_classes)
        self.adapt_button.setEnabled(has_session and self.has_model)
        self.adapt_action.setEnabled(has_session and self.has_model)
        self.suggest_button.setEnabled(has_predictions)
        self.accept_all_button.setEnabled(has_predictions)
        # What Accept all would do, before it is done (confidences are calibrated, so the expected count means it).
        threshold = self.threshold.value() / 100.0
        count = len(confident_predictions(self.session, threshold)) if has_predictions else 0
        self.accept_all_button.setText(f"Accept {count:,} at ≥ {threshold:.0%}" if has_predictions
                                       else "Accept all ≥ threshold")
        self.accept_all_button.setToolTip(
            describe_acceptance(self.session, threshold) + " Undoable."
            if has_predictions else "Take every prediction at or above the threshold as a label (undoable).")
        self.accept_selected_button.setEnabled(has_predictions and selected)

    def _status(self, text: str) -> None:
        self.adapt_status.setText(text)

    # --- closing -------------------------------------------------------------
    def shutdown(self) -> None:
        """Write the pending autosave; stop the adapt thread and the thumbnail decoders (waits for the job in progress)."""
        if self.keeper.timer.isActive():
            self.keeper.flush()
        self.adapt_thread.shutdown()
        self.model.thumbnails.shutdown()
