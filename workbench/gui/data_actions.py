"""Where the window's data comes from and goes: dataset folders and zips a person chooses, and what the
app makes or fetches in the background with progress in the status bar (the demo dataset, Omniglot's
background set, an adapted classifier exported to a file)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog

from workbench.data.demo import default_demo_path, make_demo_dataset, user_data_dir
from workbench.data.omniglot_download import omniglot_background
from workbench.export import export_adapted, format_for_file, suggested_file_name
from workbench.gui.counted import counted
from workbench.gui.data_panel import ZIP_FILTER
from workbench.gui.workers import CANCELLED, PROGRESS


def _dialog_start(window) -> str:
    paths = window.data_panel.paths()
    return str(Path(paths[0]).parent) if paths else str(window.settings.value("last_folders/data", str(Path.cwd())))


def open_dataset_folder(window) -> None:
    path = QFileDialog.getExistingDirectory(window, "Open a dataset folder", _dialog_start(window))
    if path:
        window.tabs.setCurrentWidget(window.dataset_view)
        window.data_panel.set_paths([path])


def open_dataset_zip(window) -> None:
    path, _ = QFileDialog.getOpenFileName(window, "Open a dataset zip", _dialog_start(window), ZIP_FILTER)
    if path:
        window.tabs.setCurrentWidget(window.dataset_view)
        window.data_panel.set_paths([path])


def add_dataset(window) -> None:
    """Another dataset beside those chosen: a zip, or (cancelling the dialog) a new field to type a folder in."""
    path, _ = QFileDialog.getOpenFileName(window, "Add a dataset zip (or cancel to type a folder)",
                                          _dialog_start(window), ZIP_FILTER)
    if path:
        window.data_panel.add_path(path)
    else:
        window.data_panel.add_row().edit.setFocus()


def create_demo_dataset(window) -> None:
    """Draw the demo glyph dataset (a few seconds, in the background) and load it in `window`."""
    classes, images = window.demo_classes, window.demo_images

    def announce(root) -> None:
        scan = window.datasets.scan
        if scan is not None and scan.classes:
            window.banner.show_message(
                f"Demo dataset ready: {counted(len(scan.classes), 'drawn glyph class')} in {len(scan.groups)} "
                f"'alphabets', saved in {root}. Press Start training (Ctrl+R) to train on it.", "success")

    def load(root) -> None:
        window.data_panel.set_paths([str(root)])
        window.datasets.after_scan(lambda: announce(root))  # the scan just started reports back through the event loop

    window.status_job.run(f"Drawing the demo dataset ({classes} classes)…", load, make_demo_dataset,
                          default_demo_path(), classes=classes, images_per_class=images, progress=PROGRESS,
                          cancelled=CANCELLED)


def get_omniglot(window) -> None:
    """Download Omniglot's background set (through torchvision) and load it; offline, the banner says so."""
    window.status_job.run("Downloading Omniglot (background set)…",
                          lambda folder: window.data_panel.set_paths([str(folder)]),
                          omniglot_background, user_data_dir() / "omniglot")


def export_adapted_model(window) -> None:
    """Adapt a run to labelled folders and save that classifier as ONNX or TorchScript, off the GUI thread."""
    run = QFileDialog.getExistingDirectory(window, "Run folder to export", str(window.runs_root))
    support = run and QFileDialog.getExistingDirectory(window, "Labelled images: one subfolder per class")
    out = support and QFileDialog.getSaveFileName(window, "Save the adapted classifier", suggested_file_name(run, "onnx"),
                                                  "ONNX (*.onnx);;TorchScript (*.pt)")[0]
    if out:
        window.status_job.run("Exporting the adapted classifier…", lambda result: window.banner.show_message(
            f"Exported {counted(len(result.classes), 'class')} to {result.path} (class names in {result.classes_path}). "
            f"It predicts with {result.reason}.",
            "success"), export_adapted, run, support, format_for_file(out), out)
