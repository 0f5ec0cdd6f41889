"""A resumed run's past on the Training page: its curves from metrics.csv and its best validation,
so resuming shows the whole run and not only the steps trained since."""

from __future__ import annotations

from pathlib import Path

from workbench.errors import WorkbenchError
from workbench.runs.folder import RunFolder
from workbench.training.events import TrainStep, Validation


def past_events(run_dir: str | Path, up_to_step: int) -> tuple[list[TrainStep], list[Validation]]:
    """The train steps and validations metrics.csv holds up to `up_to_step` (the checkpoint the run
    resumes from; later rows are trained again). A damaged file gives what could be read: none."""
    try:
        rows = RunFolder(run_dir).read_metrics()
    except WorkbenchError:
        return [], []
    steps, validations, best = [], [], 0.0
    for row in rows:
        step = int(row["step"])
        if step > up_to_step or not row.get("loss") or not row.get("accuracy"):
            continue
        loss, accuracy = float(row["loss"]), float(row["accuracy"])
        if row["phase"] == "train":
            steps.append(TrainStep(step, 0, loss, accuracy, 0.0, 0.0, float("nan")))
        elif row["phase"] == "val":
            best = max(best, accuracy)
            ci95 = float(row["ci95"]) if row.get("ci95") else 0.0
            validations.append(Validation(step, loss, accuracy, ci95, best))
    return steps, validations


def show_past(page, run_dir: str, up_to_step: int) -> None:
    """Draw the run's history in the Training page's curves and show its best validation."""
    steps, validations = past_events(run_dir, up_to_step)
    for step in steps:
        page.curves.add_train(step)
    for validation in validations:
        page.curves.add_validation(validation)
        page.training_panel.handle(validation)
    page.curves.redraw()
    if steps or validations:
        page.training_panel.add_log(f"Resumed at step {up_to_step}: {len(steps)} train steps and "
                                      f"{len(validations)} validations from earlier in this run are shown.")
