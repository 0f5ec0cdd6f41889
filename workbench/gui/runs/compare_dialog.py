"""Two runs' settings side by side, the rows that differ in bold on a tinted background."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from workbench.gui.counted import counted
from workbench.runs.settings_compare import SettingRow, compare_settings

# Amber at low opacity: over a white or a near-black base it stays light or dark enough that the palette's text
# reads on it, so one tint serves both themes.
DIFFERS = QColor(255, 179, 0, 70)


class CompareSettingsDialog(QDialog):
    """Lists every setting of two runs (config.json's fields, the split and the hyperparameters), in words."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Compare settings")
        self.rows: list[SettingRow] = []
        self.caption = QLabel()
        self.caption.setWordWrap(True)
        self.caption.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.only_differences = QCheckBox("Only the settings that differ")
        self.only_differences.setToolTip("Hide the rows where both runs have the same value.")
        self.only_differences.toggled.connect(lambda _on: self._fill())
        self.table = QTableWidget(0, 3)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)  # one line per setting
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.caption)
        layout.addWidget(self.only_differences)
        layout.addWidget(self.table, 1)
        layout.addWidget(buttons)
        self.resize(760, 560)

    def show_runs(self, first: tuple[str, str], second: tuple[str, str]) -> None:
        """Compare the runs given as (path, name shown)."""
        self.rows, problems = compare_settings(first[0], second[0])
        self.table.setHorizontalHeaderLabels(["Setting", first[1], second[1]])
        self.setWindowTitle(f"Compare settings: {first[1]} and {second[1]}")
        differing = sum(row.differs for row in self.rows)
        if not self.rows:
            text = "No settings to compare."
        elif differing:
            text = (f"{counted(differing, 'setting')} of {len(self.rows)} {'differs' if differing == 1 else 'differ'} "
                    f"(bold, tinted).")
        else:
            text = f"All {len(self.rows)} settings are the same."
        self.caption.setText(" ".join([text, *problems]))
        self._fill()

    def shown_rows(self) -> list[tuple[str, str, str, bool]]:
        """(setting, first value, second value, marked as differing) per row shown, top to bottom."""
        return [(self.table.item(r, 0).text(), self.table.item(r, 1).text(), self.table.item(r, 2).text(),
                 self.table.item(r, 0).font().bold()) for r in range(self.table.rowCount())]

    def _fill(self) -> None:
        rows = [r for r in self.rows if r.differs or not self.only_differences.isChecked()]
        self.table.setRowCount(len(rows))
        for index, row in enumerate(rows):
            for column, text in enumerate((row.label, row.first, row.second)):
                item = QTableWidgetItem(text)
                item.setToolTip(f"{row.section}: {row.label}\n{text}" if column == 0 else text)
                if row.differs:
                    font = item.font()
                    font.setBold(True)
                    item.setFont(font)
                    item.setBackground(QBrush(DIFFERS))
                self.table.setItem(index, column, item)
