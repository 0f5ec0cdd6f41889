"""The run list as a Qt table model (sortable through a proxy)."""

from __future__ import annotations

import math

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt
from PySide6.QtGui import QColor

from workbench.runs.store import RunSummary

COLUMNS = ("Run", "Algorithm", "Key settings", "Dataset", "Protocol", "Best val. acc.", "Status", "Date")
STATUS_COLORS = {"completed": "#2e7d32", "running": "#1565c0", "cancelled": "#8d6e00", "failed": "#c62828",
                 "damaged": "#c62828"}
SORT_ROLE = Qt.ItemDataRole.UserRole + 1


class RunTableModel(QAbstractTableModel):
    """One row per RunSummary; SORT_ROLE gives numbers for numeric columns so sorting is by value."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.runs: list[RunSummary] = []

    def set_runs(self, runs: list[RunSummary]) -> None:
        self.beginResetModel()
        self.runs = list(runs)
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802 (Qt override)
        return 0 if parent.isValid() else len(self.runs)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        run = self.runs[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(run, column)
        if role == SORT_ROLE:
            if column == 5:
                return -1.0 if math.isnan(run.best_val_accuracy) else run.best_val_accuracy
            if column == 4:
                return (run.ways, run.shots)
            return self._text(run, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            settings = ", ".join(f"{k}={v}" for k, v in sorted(run.hparams.items())) or "defaults"
            return f"{run.path}\n{run.message}\nSettings: {settings}\nStep {run.step} of {run.steps}"
        if role == Qt.ItemDataRole.ForegroundRole and column == 6:
            return QColor(STATUS_COLORS.get(run.status, "#5f6670"))
        if role == Qt.ItemDataRole.TextAlignmentRole and column == 5:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    @staticmethod
    def _text(run: RunSummary, column: int) -> str:
        if column == 0:
            return run.name
        if column == 1:
            return run.algorithm
        if column == 2:
            return run.key_hparams or "defaults"
        if column == 3:
            return run.dataset
        if column == 4:
            return run.protocol
        if column == 5:
            return "—" if math.isnan(run.best_val_accuracy) else f"{100 * run.best_val_accuracy:.1f}%"
        if column == 6:
            suffix = "" if run.status != "cancelled" else f" at {run.step}/{run.steps}"
            return run.status + suffix + (" · evaluated" if run.evaluated else "")
        return run.date
