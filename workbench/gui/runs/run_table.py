"""The run list as a Qt table model (sortable through a proxy)."""

from __future__ import annotations

import math
from pathlib import Path

from typing import Callable

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt
from PySide6.QtGui import QColor

from workbench.errors import WorkbenchError
from workbench.files import SETTINGS_LIMIT, read_json
from workbench.gui.runs.key_settings import all_settings, key_settings
from workbench.inspect.evaluation import EVALUATION_FILE
from workbench.runs.store import RunSummary

COLUMNS = ("Run", "Algorithm", "Key settings", "Dataset", "Protocol", "Best val.", "Status", "Date",
           "Test acc.", "Tags", "Note")
TEST = COLUMNS.index("Test acc.")
# The short headers say it all in their tooltips (narrow columns keep the table within a laptop's width).
HEADER_TIPS = {"Best val.": "The best validation accuracy the run reached (its model.pt is from that step).",
               "Test acc.": "Accuracy on the classes the run held out, with its 95% interval, once it was scored."}
NAME, TAGS, NOTE = 0, COLUMNS.index("Tags"), COLUMNS.index("Note")
KEY_SETTINGS, DATASET = COLUMNS.index("Key settings"), COLUMNS.index("Dataset")
# The person's own columns, edited in place (F2 or a double-click), and the annotation field each sets.
EDITABLE = {NAME: "name", TAGS: "tags", NOTE: "note"}
NOTE_SHOWN = 80  # characters of the note in its cell; all of it is in the tooltip
# One word per state, the same as the banner's: a run the person stopped is "stopped".
STATUS_WORDS = {"cancelled": "stopped"}
STATUS_COLORS = {"completed": "#2e7d32", "running": "#1565c0", "cancelled": "#8d6e00", "failed": "#c62828",
                 "damaged": "#c62828"}
SORT_ROLE = Qt.ItemDataRole.UserRole + 1


class RunTableModel(QAbstractTableModel):
    """One row per RunSummary; SORT_ROLE gives numbers for numeric columns so sorting is by value."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.runs: list[RunSummary] = []
        # Saves an edit (run, field, text) and gives the run as it is now, or None when it was refused (the
        # saver says why); without one, nothing is editable.
        self.saver: Callable[[RunSummary, str, str], RunSummary | None] | None = None

    def set_runs(self, runs: list[RunSummary]) -> None:
        self.beginResetModel()
        self.runs = list(runs)
        self.endResetModel()

    def replace_run(self, row: int, run: RunSummary) -> None:
        self.runs[row] = run
        self.dataChanged.emit(self.index(row, 0), self.index(row, len(COLUMNS) - 1))

    def flags(self, index):
        flags = super().flags(index)
        if index.isValid() and index.column() in EDITABLE and self.saver is not None \
                and not self.runs[index.row()].builtin:
            flags |= Qt.ItemFlag.ItemIsEditable
        return flags

    def setData(self, index, value, role=Qt.ItemDataRole.EditRole) -> bool:  # noqa: N802
        if role != Qt.ItemDataRole.EditRole or not index.isValid() or index.column() not in EDITABLE or not self.saver:
            return False
        run = self.runs[index.row()]
        if str(value) == self._edit_text(run, index.column()):
            return False  # nothing changed: the file is left as it is
        saved = self.saver(run, EDITABLE[index.column()], str(value))
        if saved is None:
            return False
        row = next((r for r, known in enumerate(self.runs) if known.path == run.path), None)
        if row is not None:
            self.replace_run(row, saved)
        return True

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802 (Qt override)
        return 0 if parent.isValid() else len(self.runs)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.ToolTipRole:
            return HEADER_TIPS.get(COLUMNS[section])
        return None

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        run = self.runs[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(run, column)
        if role == Qt.ItemDataRole.EditRole:
            return self._edit_text(run, column)
        if role == SORT_ROLE:
            if column == 5:
                return -1.0 if math.isnan(run.best_val_accuracy) else run.best_val_accuracy
            if column == 4:
                return (run.ways, run.shots)
            if column == TEST:
                score = test_score(run)
                return -1.0 if score is None else score[0]
            return self._text(run, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(run, column)
        if role == Qt.ItemDataRole.ForegroundRole and column == 6:
            return QColor(STATUS_COLORS.get(run.status, "#5f6670"))
        if role == Qt.ItemDataRole.ForegroundRole and column == NOTE and run.annotation_problem:
            return QColor(STATUS_COLORS["failed"])
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (5, TEST):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    @staticmethod
    def _edit_text(run: RunSummary, column: int) -> str:
        """What the editor of a cell starts from: the name as set (empty: the folder's), tags, the note."""
        if column == NAME:
            return run.name
        if column == TAGS:
            return ", ".join(run.tags)
        return run.note if column == NOTE else ""

    @staticmethod
    def _tooltip(run: RunSummary, column: int) -> str:
        if column == NOTE and run.annotation_problem:
            return run.annotation_problem
        if column == NOTE and run.note:
            return run.note
        if column == TAGS:
            return ("Tags: " + ", ".join(run.tags) + "\n" if run.tags else "") + \
                "Double-click or press F2 to edit the tags, separated by commas."
        if column == DATASET:  # elided where the page is narrow: the whole text here
            return RunTableModel._text(run, column)
        settings = all_settings(run.algorithm, run.hparams) or "defaults"
        folder = f"Folder: {run.folder_name}\n" if run.name != run.folder_name and not run.builtin else ""
        note = f"Note: {run.note}\n" if run.note else ""
        return f"{note}{folder}{run.path}\n{run.message}\nSettings:\n{settings}\nStep {run.step} of {run.steps}"

    @staticmethod
    def _text(run: RunSummary, column: int) -> str:
        if column == 0:
            return run.name
        if column == TAGS:
            return ", ".join(run.tags)
        if column == NOTE:
            if run.annotation_problem:
                return "⚠ annotations.json cannot be read (hover for why)"
            line = run.note.splitlines()[0] if run.note else ""
            return line if len(line) <= NOTE_SHOWN and "\n" not in run.note else line[:NOTE_SHOWN].rstrip() + " …"
        if column == 1:
            return run.algorithm
        if column == 2:
            return key_settings(run.algorithm, run.hparams) or "defaults"
        if column == 3:
            return run.dataset
        if column == 4:
            return run.protocol
        if column == 5:
            return "—" if math.isnan(run.best_val_accuracy) else f"{100 * run.best_val_accuracy:.1f}%"
        if column == 6:
            suffix = "" if run.status != "cancelled" else f" at {run.step}/{run.steps}"
            return STATUS_WORDS.get(run.status, run.status) + suffix + (" · evaluated" if run.evaluated else "")
        if column == TEST:
            score = test_score(run)
            return "—" if score is None else f"{100 * score[0]:.1f}% ± {100 * score[1]:.1f}"
        return run.date


def test_score(run: RunSummary) -> tuple[float, float] | None:
    """(accuracy, 95% half-width) of the run's saved evaluation on its test classes, if it has one."""
    if not run.evaluated:
        return None
    path = Path(run.path) / EVALUATION_FILE
    try:
        stamp = path.stat().st_mtime
        cached = _SCORES.get(str(path))
        if cached is None or cached[0] != stamp:
            data = read_json(path, SETTINGS_LIMIT * 16, what="evaluation file")  # it lists every episode
            cached = _SCORES[str(path)] = (stamp, (float(data["accuracy"]), float(data.get("ci95") or 0.0)))
    except (OSError, WorkbenchError, ValueError, KeyError, TypeError):
        return None  # unreadable: the Inspect page says why when it is opened
    return None if math.isnan(cached[1][0]) else cached[1]


_SCORES: dict[str, tuple[float, tuple[float, float]]] = {}
