"""The Label page's exports: a CSV of every image, or the labelled images copied into class folders."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QMessageBox

from workbench.errors import WorkbenchError
from workbench.gui.counted import counted
from workbench.labelling.export import export_to_class_folders, write_csv


def export_csv(page, path: str | None = None) -> None:
    """Write every image's path, label, confidence and source to a CSV (asks where when `path` is None)."""
    if page.session is None:
        page.ui.banner.show_message("Open a folder of images first; there is nothing to export yet.", "info")
        return
    if path is None:
        start = str(Path(page.session.folder).parent / f"{Path(page.session.folder).name}-labels.csv")
        path, _ = QFileDialog.getSaveFileName(page, "Export labels as CSV", start, "CSV files (*.csv)")
        if not path:
            return
    try:
        rows = write_csv(page.session, path)
    except WorkbenchError as exc:
        page.ui.banner.show_message(str(exc), "error")
        return
    page.ui.banner.show_message(f"Wrote {counted(rows, 'row')} (path, label, confidence, source) to {path}.", "success")


def export_to_folders(page, target: str | None = None, move: bool = False) -> None:
    """Copy (or move) the labelled images into target/<class>/; nothing is overwritten."""
    if page.session is None or not page.session.labels:
        page.ui.banner.show_message("Label some images first; only labelled images go into class folders.", "info")
        return
    verb = "Move" if move else "Copy"
    if target is None:
        target = QFileDialog.getExistingDirectory(page, f"{verb} labelled images into class folders under…",
                                                  page.start_dir())
        if not target:
            return
        if move and QMessageBox.question(
                page, "Move images?", f"Move {counted(len(page.session.labels), 'labelled image')} out of "
                f"{page.session.folder} into {target}/<class>/? This cannot be undone.") != QMessageBox.StandardButton.Yes:
            return
    try:
        report = export_to_class_folders(page.session, target, move)
    except WorkbenchError as exc:
        page.ui.banner.show_message(str(exc), "error")
        return
    if move and report.done:
        moved = {str(Path(src).relative_to(page.session.folder).as_posix()) for src, _ in report.done}
        session = page.session
        session.images = [p for p in session.images if p not in moved]
        for path in moved:
            session.labels.pop(path, None)
            session.predictions.pop(path, None)
        page.set_session(session)
    done = f"{'Moved' if move else 'Copied'} {counted(len(report.done), 'image')} into class folders under {target}"
    if report.failed:
        src, reason = report.failed[0]
        page.ui.banner.show_message(f"{done}; {len(report.failed)} could not be {'moved' if move else 'copied'} and "
                                    f"were left where they are (first: {src}: {reason}).", "warning")
    else:
        page.ui.banner.show_message(done + ".", "success")
