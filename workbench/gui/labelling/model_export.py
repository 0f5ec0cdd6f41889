"""The Label page's Export model…: the classifier of the session as it stands, saved as ONNX or TorchScript.

The page's model (a run, or the built-in model), its labels and accepted labels as the support set and
the page's adapt mode go to `export_labelled`, which writes what `main.py export` writes for the same
images in class folders. It runs on a Worker; the banner says what it wrote, or why it could not.
"""

from __future__ import annotations

from pathlib import Path

import shiboken6
from PySide6.QtCore import QObject, Slot
from PySide6.QtWidgets import QFileDialog

from workbench.export import SUFFIXES, can_export, export_labelled, format_for_file
from workbench.gui.counted import counted
from workbench.gui.workers import PROGRESS, Worker, create_worker

EXPORTING = "model export"  # what the banner's progress message is about
FILTERS = {"onnx": "ONNX (*.onnx)", "torchscript": "TorchScript (*.pt)"}
TIP = ("Save the classifier adapted to your labels (accepted predictions too) as ONNX or TorchScript, to "
       "predict with outside the workbench: what `main.py export` writes.")
SHOWN_CLASSES = 8  # classes named in the banner; the rest are counted


def blocker(page) -> str:
    """Why the session has no model to export now, in one sentence; '' when it has."""
    session = page.session
    if page.export_worker is not None:
        return "A model is being exported; wait for it to finish."
    if session is None:
        return "Open a folder of images and label some first; there is no model to export yet."
    if not page.has_model or page.jobs.adapter is None:
        return "Choose a model under Model first; there is no model to export yet."
    if not page.model_run_dir:
        return "This model was not loaded from a run folder, so it cannot be exported; choose a run under Model."
    algorithm = page.jobs.adapter.algorithm
    if not can_export(algorithm):
        return (f"The algorithm '{algorithm.title}' cannot be exported: its adapt gives no network that ONNX or "
                "TorchScript can save; label with it here, or choose a run of another algorithm.")
    counts = session.counts()
    if sum(1 for n in counts.values() if n) < 2:
        return "Label images of at least two classes first; the exported model is adapted to your labels."
    empty = [name for name, n in counts.items() if not n]
    if empty:
        return (f"The class '{empty[0]}' has no labelled images; label some as '{empty[0]}', or remove the class, "
                "then export.")
    return ""


def show_state(page) -> None:
    """Enable Export model… only when there is a model to export; its tooltip says why not."""
    why = blocker(page)
    page.actions.export_model.setEnabled(not why)
    page.actions.export_model.setToolTip(why or TIP)


def file_and_format(path: str, chosen_filter: str) -> tuple[str, str]:
    """The file to write and its format: a known extension decides, else the filter chosen (and its extension)."""
    suffix = Path(path).suffix.lower()
    if suffix in (".onnx", ".pt", ".pts", ".torchscript"):
        return path, format_for_file(path)
    fmt = next((f for f, text in FILTERS.items() if text == chosen_filter), "onnx")
    return path + SUFFIXES[fmt], fmt


def export_model(page, path: str | None = None) -> bool:
    """Ask where to save (unless `path`), then export in the background; False when nothing started."""
    why = blocker(page)
    if why:
        page.ui.banner.show_message(why, "info")
        return False
    session = page.session
    if path is None:
        start = str(Path(session.folder).parent / f"{Path(session.folder).name}{SUFFIXES['onnx']}")
        path, chosen = QFileDialog.getSaveFileName(page, "Export the adapted model", start, ";;".join(FILTERS.values()))
        if not path:
            return False
        path, fmt = file_and_format(path, chosen)
    else:
        fmt = format_for_file(path)
    # The session as it stands now: labels made while the export runs are not in this file.
    labels = {p: label.name for p, label in session.labels.items()}
    worker = create_worker(export_labelled, page.model_run_dir, session.folder, labels, fmt, path, PROGRESS,
                           mode=page.jobs.adapter.policy.mode, title="Exporting the model", parent=page)
    worker.progressed.connect(lambda step: _progress(page, path, step))
    ending = _ExportEnding(page, worker)
    worker.succeeded.connect(ending.succeeded)
    worker.failed.connect(ending.failed)
    worker.finished.connect(ending.finished)
    page.export_worker = worker
    page.ui.banner.show_message(f"Exporting the model to {path}…", "info", about=EXPORTING)
    page.update_state()
    worker.start()
    return True


def _progress(page, path: str, step: str) -> None:
    if page.ui.banner.about == EXPORTING:  # never over a message that came meanwhile
        page.ui.banner.show_message(f"Exporting the model to {path}: {step}…", "info", about=EXPORTING)


class _ExportEnding(QObject):
    """Shows an export's outcome once its thread has ended, so that the banner never says "done" while
    Export model… is still disabled. Bound slots of an object on the GUI thread, not lambdas: a lambda's
    queued call can be dropped when the worker deletes itself on `finished`."""

    def __init__(self, page, worker: Worker) -> None:
        super().__init__(page)
        self.page, self.worker = page, worker
        self.outcome: tuple[str, str] | None = None

    @Slot(object)
    def succeeded(self, result) -> None:
        self.outcome = _report(result)

    @Slot(str)
    def failed(self, message: str) -> None:
        self.outcome = (message, "error")

    @Slot()
    def finished(self) -> None:
        page = self.page
        if page.export_worker is self.worker:
            page.export_worker = None
            page.update_state()
        if self.outcome is not None:
            page.ui.banner.show_message(*self.outcome)
        self.deleteLater()


def _report(result) -> tuple[str, str]:
    """What was written, in words: the file, its classes with their images, and any image left out."""
    named = ", ".join(f"{name} ({counted(n, 'image')})"
                      for name, n in list(zip(result.classes, result.images_per_class))[:SHOWN_CLASSES])
    more = len(result.classes) - SHOWN_CLASSES
    named += f" and {more} more" if more > 0 else ""
    text = (f"Exported the model ({'ONNX' if result.format == 'onnx' else 'TorchScript'}) to {result.path}: "
            f"{counted(len(result.classes), 'class')}, {named}; class names also in {Path(result.classes_path).name}. "
            f"It predicts with {result.reason.split(': ')[0]}.")  # the space chosen, not its scores
    if result.problems:  # labelled images that could not be read now
        return (text + f" {counted(len(result.problems), 'labelled image')} could not be read and "
                f"{'was' if len(result.problems) == 1 else 'were'} left out (first: {result.problems[0]})."), "warning"
    return text, "success"


def shutdown(page) -> None:
    """Wait for an export in progress: its thread must not outlive the page."""
    worker = page.export_worker
    if worker is not None and shiboken6.isValid(worker):
        worker.wait()

