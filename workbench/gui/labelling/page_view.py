"""What the Label page shows about its state: which buttons work now, what Accept all would do, the
line under the grid, the box of labels that look wrong, and the selection. Its behaviour is in page.py."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QItemSelection, QItemSelectionModel

from workbench.gui.counted import counted
from workbench.gui.labelling import model_export
from workbench.labelling.session import ACCEPTED, HUMAN
from workbench.labelling.suggestions import acceptable_predictions, describe_acceptance
from workbench.runs.builtin import builtin_model, builtin_name, default_run_dir


def show_summary(page) -> None:
    """The line under the grid: the folder and how many images are labelled, accepted, predicted, shown."""
    summary = page.ui.images.summary
    session = page.session
    if session is None:
        summary.setText("")
        return
    human = sum(1 for label in session.labels.values() if label.source == HUMAN)
    accepted = sum(1 for label in session.labels.values() if label.source == ACCEPTED)
    predicted = sum(1 for p in session.predictions if p not in session.labels)
    suspects = len(page.suspects())
    doubts = f" · ⚠ {suspects:,} label{'s look' if suspects != 1 else ' looks'} wrong" if suspects else ""
    summary.setText(str(session.folder), f": {counted(len(session.images), 'image')} · {human:,} by hand · "
                    f"{accepted:,} accepted · {predicted:,} predicted · showing {page.proxy.rowCount():,}{doubts}")


def describe_model(algorithm, config, run_dir) -> str:
    """The Model box's words: which model adapts, and how it sees the images."""
    seen = (f"{config.image_size}×{config.image_size} {'gray' if config.channels == 1 else 'RGB'}"
            f"{', inverted' if config.invert else ''}")
    name = builtin_name(run_dir)
    if name is not None:
        return (f"Built-in: {builtin_model(name).title} ({algorithm.title}, {seen}). For photos, adapting weighs "
                f"pretrained ImageNet features too. Choose run… to use a model you trained.")
    return f"{algorithm.title}, {seen}, from run {Path(run_dir).name}"


def show_state(page) -> None:
    """Enable what can be done now; say what Accept all would do before it is done."""
    side = page.ui.side
    has_session = page.session is not None
    selected = bool(page.ui.images.grid.selectionModel().selectedIndexes()) if has_session else False
    has_predictions = has_session and bool(page.session.predictions)
    side.model_label.setText(page.model_description or (
        f"Built-in: {builtin_model().title}, used as soon as you open a folder. Choose run… to use a model "
        f"you trained." if default_run_dir() else
        "No model yet. Choose a trained run folder, or train one on the Training tab."))
    for action in (page.actions.save_session, page.actions.export_csv):
        action.setEnabled(has_session)
    page.ui.folders_button.setEnabled(has_session)
    side.add_class_button.setEnabled(has_session)
    has_classes = has_session and bool(page.session.classes)
    side.rename_class_button.setEnabled(has_classes)
    side.remove_class_button.setEnabled(has_classes)
    side.adapt_button.setEnabled(has_session and page.has_model)
    page.actions.adapt.setEnabled(has_session and page.has_model)
    side.suggest_button.setEnabled(has_predictions)
    side.accept_all_button.setEnabled(has_predictions)
    # What Accept all would do, before it is done (confidences are calibrated, so the expected count means it).
    threshold = side.threshold.value() / 100.0
    count = len(acceptable_predictions(page.session, threshold)) if has_predictions else 0
    side.accept_all_button.setText(f"Accept {count:,} at ≥ {threshold:.0%}" if has_predictions
                                   else "Accept all ≥ threshold")
    side.accept_all_button.setToolTip(
        describe_acceptance(page.session, threshold) + " Undoable."
        if has_predictions else "Take every prediction at or above the threshold as a label (undoable).")
    side.accept_selected_button.setEnabled(has_predictions and selected)
    model_export.show_state(page)
    show_audit(page)


def show_audit(page) -> None:
    """The audit box: how many labels look wrong, and what Relabel would do to the selection."""
    audit = page.ui.audit
    suspects = page.suspects()
    audit.box.setVisible(bool(suspects))
    if not suspects:
        return
    count = len(suspects)
    audit.label.setText(f"⚠ {count} label{'s look' if count != 1 else ' looks'} wrong: adapted without "
                        f"{'them' if count != 1 else 'it'}, the model puts {'them' if count != 1 else 'it'} "
                        "in another class. Review, then relabel or keep.")
    chosen = [suspects[p] for p in page.ui.images.grid.selected_paths() if p in suspects]
    likely = {s.likely for s in chosen}
    audit.relabel_button.setEnabled(bool(chosen))
    if len(likely) == 1:
        name = next(iter(likely))
        key = page.session.classes.index(name) + 1
        audit.relabel_button.setText(f"Relabel as {name}")
        audit.relabel_button.setToolTip(f"Label the selected image{'s' if len(chosen) != 1 else ''} '{name}', the "
                                        "class it looks like" + (f" (or press {key})" if key <= 9 else "")
                                        + ". Undoable.")
    else:
        audit.relabel_button.setText(f"Relabel {len(chosen)} as likely classes" if chosen else "Relabel as likely class")
        audit.relabel_button.setToolTip("Label each selected image that looks wrong as the class it looks like "
                                        "(select one marked ⚠ first). Undoable.")


def select_paths(page, paths: list[str]) -> None:
    """Select `paths` in the grid, scroll to the first and give the grid the keyboard."""
    grid = page.ui.images.grid
    selection = QItemSelection()
    first = None
    for path in paths:
        row = page.model.row_of.get(path)
        if row is None:
            continue
        index = page.proxy.mapFromSource(page.model.index(row))
        if index.isValid():
            selection.select(index, index)
            first = first or index
    flags = QItemSelectionModel.SelectionFlag.ClearAndSelect
    grid.selectionModel().select(selection, flags)
    if first is not None:
        grid.setCurrentIndex(first)
        grid.selectionModel().select(selection, flags)
        grid.scrollTo(first)
    grid.setFocus()
