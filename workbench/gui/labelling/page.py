"""The Label page: open a folder, make classes, label a few, adapt, auto-label, review doubtful labels, export
the labels or the adapted model."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QUndoStack
from PySide6.QtWidgets import QApplication, QFileDialog, QInputDialog, QPushButton, QWidget

from workbench.adaptation.for_run import policy_for_run
from workbench.algorithms.base import Algorithm
from workbench.errors import WorkbenchError
from workbench.gui.counted import counted
from workbench.gui.labelling import export_actions, model_export, opening, page_layout, page_view
from workbench.gui.labelling.accept_dialog import confirm_accept_all
from workbench.gui.labelling.adapting import ModelJobs
from workbench.gui.labelling.autosave import SessionKeeper
from workbench.gui.labelling.commands import OperationCommand
from workbench.gui.labelling.grid_model import PATH_ROLE, SUSPECTS, GridFilterProxy, ImageGridModel
from workbench.gui.labelling.opening import SESSION_FILTER
from workbench.gui.labelling.page_view import describe_model
from workbench.labelling import operations as ops
from workbench.labelling.adapter import Adapter, AdaptResult
from workbench.labelling.operations import Operation
from workbench.labelling.session import LabelSession
from workbench.labelling.session_file import SUFFIX, save_session
from workbench.labelling.suggestions import accept_predictions, least_confident
from workbench.labelling.suspects import current_suspects, relabel_as_likely
from workbench.runs.builtin import default_run_dir
from workbench.runs.model_loading import load_trained

OFFER = "offered run"  # what the banner's "Use this model for labelling" message is about


class LabelPage(QWidget):
    """Label images of a folder and let a trained few-shot model adapt to the labels and predict the rest.

    Promises: every change to labels and classes is undoable (Ctrl+Z / Ctrl+Shift+Z);
    adapting runs on a worker thread, so the page never waits on the model; errors
    show in the page's banner, never as a traceback. `set_model` takes any
    registered algorithm; `load_run` takes it from a run folder.
    """

    predictionsUpdated = Signal()  # after each adapt's predictions are shown
    modelChosen = Signal(str)  # the run folder of the model now used ("" for one not from a run)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.session: LabelSession | None = None
        self.session_path: str | None = None
        self.model_description = ""
        self.has_model = False
        self.last_result: AdaptResult | None = None
        self.last_latency_ms = 0.0
        self.offered_run: str | None = None
        self.model_run_dir: str | None = None
        self.undo_stack = QUndoStack(self)
        self.keeper = SessionKeeper(self)  # autosave, restore, and Save / Discard / Cancel
        self.jobs = ModelJobs(self)  # decoding for the model and adapting, off the GUI thread
        self.export_worker = None  # the Export model… in progress (model_export.py)
        self.jobs.loading.connect(self._on_loading)
        self.jobs.loaded.connect(self._on_loaded)
        self.jobs.predicted.connect(self._on_predicted)
        self.jobs.failed.connect(self._on_adapt_failed)
        app = QApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)

        self.model = ImageGridModel(self)
        self.proxy = GridFilterProxy(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.set_sort("name")
        self.class_button_names: list[str] | None = None  # the classes `class_button_list` was made for
        self.class_button_list: list[QPushButton] = []  # 'label selected as' (page_layout.fill_class_buttons)
        self.actions: page_layout.LabelPageActions = page_layout.make_actions(self)
        self.ui: page_layout.LabelPageWidgets = page_layout.build(self, self.actions)
        self.update_state()

    # --- folder and session --------------------------------------------------
    def open_folder(self, path: str | None = None) -> None:
        opening.open_folder(self, path)  # asks for the folder when `path` is None

    def set_session(self, session: LabelSession, warnings: list[str] | None = None) -> None:
        """Show `session` (a new folder or a reopened file); the undo history starts afresh."""
        if self.ui.banner.about != OFFER:  # a finished run is still worth using on the new folder
            self.ui.banner.clear()
        self.undo_stack.clear()
        self.session = session
        self.last_result = None
        self.ui.side.threshold.blockSignals(True)
        self.ui.side.threshold.setValue(round(session.threshold * 100))
        self.ui.side.threshold.blockSignals(False)
        self.proxy.threshold = session.threshold
        self.model.set_session(session)
        self.proxy.set_sort(self.proxy.sort_key)
        self.ui.images.stack.setCurrentWidget(self.ui.images.grid)
        if self.has_model:
            session.model_run_dir = session.model_run_dir or self.model_run_dir
            self._load_images()
        else:
            self.use_builtin_model()
        self._session_changed(adapt=False)
        if warnings:
            self.ui.banner.show_message(" ".join(warnings), "warning")

    def save_session(self, path: str | None = None, ask: bool = False) -> bool:
        """Save to `path`, else to the file it was saved to (asking where the first time, or when `ask`)."""
        if self.session is None:
            self.ui.banner.show_message("Open a folder of images first; there is no session to save yet.", "info")
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
            self.ui.banner.show_message(str(exc), "error")
            return False
        self.session_path = path
        self.undo_stack.setClean()
        self._status(f"Session saved to {path}.")
        return True

    def open_session(self, path: str | None = None) -> None:
        opening.open_session(self, path)  # asks for the file when `path` is None

    def show_loaded(self, loaded, path: str | None) -> None:
        self.session_path = path
        run_dir = loaded.session.model_run_dir
        self.set_session(loaded.session, loaded.warnings)
        if run_dir and run_dir != self.model_run_dir:
            if Path(run_dir).is_dir():
                self.load_run(run_dir)
            else:
                self.ui.banner.show_message(f"The session's model run folder {run_dir} is gone; choose another run "
                                            "under Model to adapt.", "warning")

    def reset(self) -> None:
        """No folder, model or message: the page of a new project (the window asked about unsaved labels first)."""
        self.keeper.timer.stop()
        self.keeper.release_lock()  # the folder is free for another window to label
        self.undo_stack.clear()
        self.session, self.session_path, self.last_result = None, None, None
        self.has_model, self.model_run_dir, self.model_description, self.offered_run = False, None, "", None
        self.model.set_session(None)
        self.ui.side.class_list.set_classes([], {})
        page_layout.fill_class_buttons(self, [])
        page_layout.fill_class_filter(self, [])
        self.ui.images.stack.setCurrentWidget(self.ui.images.hint)
        self.ui.side.progress.hide()
        self.ui.side.adapt_status.setText("")
        self.ui.banner.clear()
        self.modelChosen.emit("")
        self._update_summary()
        self.update_state()

    def start_dir(self) -> str:
        return str(Path(self.session.folder).parent) if self.session else str(Path.cwd())

    # --- model ---------------------------------------------------------------
    def offer_run(self, run_dir: str) -> None:
        """A run just finished training: offer to use it here (the page's message, with one button)."""
        self.offered_run = run_dir = str(run_dir)
        self.ui.banner.show_message(f"Training finished: {Path(run_dir).name}.", "info",
                                    ("Use this model for labelling", lambda: self.load_run(run_dir)), about=OFFER)

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
            self.ui.banner.show_message(str(exc), "error")
            return False
        finally:
            QApplication.restoreOverrideCursor()
        self.set_model(algorithm, config.image_size, config.channels, describe_model(algorithm, config, run_dir),
                       str(run_dir), invert=config.invert)
        return True

    def use_builtin_model(self) -> None:
        """No model chosen yet: the built-in one, so a person labels and adapts with no training at all."""
        if (run_dir := default_run_dir()) is not None:
            self.load_run(run_dir)

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
        self.jobs.set_adapter(adapter)
        self.has_model = True
        self.model_run_dir = run_dir
        self.model_description = adapter.description
        if run_dir and self.offered_run == run_dir:
            self.ui.banner.clear(about=OFFER)
        self.modelChosen.emit(run_dir or "")
        if self.session is not None:
            self.session.model_run_dir = run_dir
            self.session.predictions = {}
            self.model.set_suspects({})  # another model's doubts
            self._load_images()
            if self.ui.side.auto_adapt.isChecked():
                self.jobs.requests.wait_for_images()
        self.update_state()

    def _load_images(self) -> None:
        self.ui.side.progress.setRange(0, max(len(self.session.images), 1))
        self.ui.side.progress.setValue(0)
        self.ui.side.progress.setFormat("Reading images for the model… %p%")
        self.ui.side.progress.show()
        self.jobs.load(self.session.folder, list(self.session.images))
        self.update_state()

    def _on_loading(self, done: int, total: int) -> None:
        self.ui.side.progress.setRange(0, max(total, 1))
        self.ui.side.progress.setValue(done)

    def _on_loaded(self, problems: dict, error: str) -> None:
        """The images are decoded for the model (the last decode asked for ended)."""
        self.ui.side.progress.hide()
        if error:  # the page stays usable for labelling
            self.ui.banner.show_message(error, "error")
        elif problems:
            first, many = next(iter(problems.items())), len(problems) != 1
            self.ui.banner.show_message(f"{counted(len(problems), 'image')} cannot be read and "
                                        f"{'are' if many else 'is'} left out (first: {first[0]}: {first[1]}).",
                                        "warning")
        if self.jobs.requests.take_waiting() or self.ui.side.auto_adapt.isChecked():
            self._request_adapt(quiet=True)
        self.update_state()

    @property
    def images_ready(self) -> bool:
        return self.has_model and self.jobs.requests.images_ready

    # --- classes and labels --------------------------------------------------
    def push(self, operation: Operation) -> None:
        """Apply an operation through the undo stack."""
        self.undo_stack.push(OperationCommand(operation, self.session, self._session_changed))

    def _try(self, build) -> None:
        if self.session is None:
            self.ui.banner.show_message("Open a folder of images first (toolbar › Open folder…).", "info")
            return
        try:
            operation = build()
        except WorkbenchError as exc:
            self.ui.banner.show_message(str(exc), "error")
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
        old = old or self.ui.side.class_list.current_name()
        if old is None:
            self.ui.banner.show_message("Choose the class to rename in the class list first.", "info")
            return
        if new is None:
            new, ok = QInputDialog.getText(self, "Rename class", f"New name for '{old}':", text=old)
            if not ok or new == old:
                return
        self._try(lambda: ops.rename_class(self.session, old, new))

    def remove_class(self, name: str | None = None) -> None:
        name = name or self.ui.side.class_list.current_name()
        if name is None:
            self.ui.banner.show_message("Choose the class to remove in the class list first.", "info")
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
            self.ui.banner.show_message(f"There is no class {number} yet: add classes under Classes "
                                        f"(there {'is' if len(self.session.classes) == 1 else 'are'} "
                                        f"{len(self.session.classes)}).", "info")
            return
        self.label_selected(self.session.classes[number - 1])

    def label_selected(self, name: str | None) -> None:
        paths = self.ui.images.grid.selected_paths()
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
            self.ui.banner.show_message("Open a folder of images first (toolbar › Open folder…).", "info")
            return
        if not self.has_model:
            self.ui.banner.show_message("Choose a trained model first: Model › Choose run… (or train one on the "
                                        "Training tab and use it from there).", "info")
            return
        if not self.images_ready:
            self.jobs.requests.wait_for_images()
            self._status("Adapting as soon as the images are decoded…")
            return
        self._request_adapt(quiet=False)

    def _labelled_classes(self) -> int:
        return len({label.name for label in self.session.labels.values()}) if self.session else 0

    def _request_adapt(self, quiet: bool) -> None:
        if self.session is None or not self.has_model:
            return
        if self._labelled_classes() < 2:
            if not quiet:
                self.ui.banner.show_message("Label at least one image in each of two classes, then adapt.", "info")
            return
        labels = {path: label.name for path, label in self.session.labels.items()}
        # While the images decode or an adapt runs, this waits: one follow-up adapts to the newest labels.
        if self.jobs.adapt(labels, list(self.session.classes), self.session.unlabelled()):
            self.ui.side.adapt_status.setText("Adapting…")
        self.update_state()

    def _on_predicted(self, result: AdaptResult, latency_ms: float) -> None:
        self.last_latency_ms = latency_ms
        if self.session is not None:
            self.last_result = result
            self.session.predictions = dict(result.predictions)
            self.model.set_suspects(result.suspects)
            self._update_summary()
            self.ui.side.adapt_status.setText(
                f"Adapted to {counted(result.support_count, 'labelled image')} in {counted(len(result.classes), 'class')}; "
                f"predicted {len(result.predictions):,} in {latency_ms:.0f} ms.")
            self.ui.side.adapt_status.setToolTip(f"Adapted with {result.reason}." if result.reason else "")
        self._adapt_ended()
        self.predictionsUpdated.emit()

    def _on_adapt_failed(self, message: str) -> None:
        self.ui.side.adapt_status.setText("")
        self.ui.banner.show_message(message, "error")
        self._adapt_ended()

    def _adapt_ended(self) -> None:
        if self.jobs.requests.take_waiting():
            self._request_adapt(quiet=True)
        self.update_state()

    @property
    def adapting(self) -> bool:
        """An adapt runs or waits, or the images are being decoded for the model."""
        return self.jobs.busy

    # --- suggestions and auto-labelling ---------------------------------------
    def suggest(self, k: int | None = None) -> list[str]:
        """Select (and scroll to) the k unlabelled images predicted with the least confidence."""
        if self.session is None:
            return []
        paths = least_confident(self.session, k or self.ui.side.suggest_count.value())
        if not paths:
            self.ui.banner.show_message("Adapt first: suggestions are the unlabelled images the model is least sure "
                                        "about.", "info")
            return []
        self.ui.images.class_filter.setCurrentIndex(0)
        self.ui.images.confidence_filter.setCurrentIndex(0)
        self.select_paths(paths)
        self._status(f"Selected the {counted(len(paths), 'least confident image')}, least first "
                     f"({self.session.predictions[paths[0]].confidence:.0%}): label these next.")
        return paths

    def select_paths(self, paths: list[str]) -> None:
        page_view.select_paths(self, paths)

    def accept_selected(self) -> None:
        paths = self.ui.images.grid.selected_paths()
        if not paths:
            self._status("Select images with predictions first.")
            return
        self._try(lambda: accept_predictions(self.session, 0.0, paths, floor=0.0))  # the person chose them

    def accept_all(self) -> None:
        """Every prediction at or above the threshold becomes a label, once the person agrees."""
        threshold = self.ui.side.threshold.value() / 100.0
        if self.session is None or confirm_accept_all(self, self.session, threshold):
            self._try(lambda: accept_predictions(self.session, threshold))

    # --- labels that look wrong (the audit of each adapt: labelling/suspects.py) ---
    def suspects(self) -> dict:
        """The labels the last adapt doubts that still stand, by path, in the grid's folder order."""
        return current_suspects(self.session, self.model.suspects) if self.session else {}

    def review_suspects(self) -> None:
        """Show only the labels that look wrong and select the first, to look at and relabel."""
        suspects = self.suspects()
        if not suspects:
            self._status("No label looks wrong after the last adapt.")
            return
        self.ui.images.confidence_filter.setCurrentIndex(0)
        self.ui.images.class_filter.setCurrentIndex(self.ui.images.class_filter.findData(SUSPECTS))
        self.select_paths([self.proxy.index(0, 0).data(PATH_ROLE)])

    def relabel_suspects(self) -> None:
        """Label the selected suspects as the classes they look like (one undoable step)."""
        self._try(lambda: relabel_as_likely(self.session, self.model.suspects, self.ui.images.grid.selected_paths()))

    def threshold_changed(self, value: float) -> None:
        if self.session is not None:
            self.session.threshold = value / 100.0
        self.proxy.set_filter(self.proxy.class_filter, self.proxy.confidence_mode, value / 100.0)
        self.update_state()

    # --- export (workbench/gui/labelling/export_actions.py) -------------------
    def export_csv(self, path: str | None = None) -> None:
        export_actions.export_csv(self, path)

    def export_to_folders(self, target: str | None = None, move: bool = False) -> None:
        export_actions.export_to_folders(self, target, move)

    def export_model(self, path: str | None = None) -> bool:
        return model_export.export_model(self, path)

    # --- keeping the view in step --------------------------------------------
    def _session_changed(self, adapt: bool = True) -> None:
        session = self.session
        if session is None:
            return
        self.model.refresh()
        self.ui.side.class_list.set_classes(session.classes, session.counts())
        page_layout.fill_class_buttons(self, session.classes)
        if page_layout.fill_class_filter(self, session.classes):
            self.apply_filter()
        self._update_summary()
        self.update_state()
        if adapt and self.ui.side.auto_adapt.isChecked():
            self._request_adapt(quiet=True)

    def apply_filter(self) -> None:
        images = self.ui.images
        self.proxy.set_filter(images.class_filter.currentData(), images.confidence_filter.currentData() or "any",
                              self.ui.side.threshold.value() / 100.0)
        self._update_summary()

    def _update_summary(self) -> None:
        page_view.show_summary(self)

    def update_state(self) -> None:
        """Enable what can be done now, and say what Accept all and Relabel would do (page_view.py)."""
        page_view.show_state(self)

    def _status(self, text: str) -> None:
        self.ui.side.adapt_status.setText(text)

    # --- closing -------------------------------------------------------------
    def shutdown(self) -> None:
        """Write the pending autosave; stop the adapt thread and the thumbnail decoders (waits for the job in progress)."""
        if self.keeper.timer.isActive():
            self.keeper.flush()
        self.keeper.release_lock()  # written: another window may label the folder now
        self.jobs.shutdown()
        model_export.shutdown(self)
        self.model.thumbnails.shutdown()
