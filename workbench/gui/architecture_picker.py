"""Picking the found cell `backbone=searched` trains on: the searches among the runs, or any file.

The list is the architecture.json of every run under the window's runs folder that searched one
(runs/architectures.py), newest first, each labelled with its run and best validation accuracy; it
is read again each time it opens, so a search that just finished is there. "Browse…" picks any file.
"""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox, QFileDialog, QHBoxLayout, QLabel, QPushButton, QStyle, QStyleOptionComboBox, QStylePainter, QVBoxLayout,
    QWidget,
)

from workbench.algorithms.backbone_settings import BACKBONE_ARCHITECTURE
from workbench.algorithms.hyperparam_labels import label_of
from workbench.algorithms.hyperparams import HyperParam
from workbench.errors import ConfigError
from workbench.gui.error_label import error_label
from workbench.models.genotype import FILE_NAME, describe_cell, read_architecture
from workbench.runs.architectures import searched_cells

NO_SEARCH_YET = "No architecture search yet: train metanas first"
CHOOSE = "Choose a found cell…"
NONE_YET = "No search yet"  # the box's own words stay short: its width counts them
NOT_CHOSEN = (f"The searched backbone needs a found cell: choose one in the {label_of(BACKBONE_ARCHITECTURE)} box, "
              "or train metanas first to find one.")


def architecture_problem(hparams: dict) -> str:
    """Why these settings cannot train yet ("" when they can): backbone=searched with no cell chosen."""
    if hparams.get("backbone") == "searched" and not str(hparams.get("backbone_architecture") or "").strip():
        return NOT_CHOSEN
    return ""


class _ListingCombo(QComboBox):
    """A combo box that reads its list again just before it opens, opens as wide as its entries, and
    elides the chosen one in the middle: run names differ at both ends (date first, "-2" last)."""

    def __init__(self, refresh, parent=None) -> None:
        super().__init__(parent)
        self._refresh = refresh

    def showPopup(self) -> None:  # noqa: N802 (Qt override)
        self._refresh()
        view = self.view()
        scroll_bar = view.verticalScrollBar().sizeHint().width()
        view.setMinimumWidth(view.sizeHintForColumn(0) + 2 * view.frameWidth() + scroll_bar)
        super().showPopup()

    def paintEvent(self, _event) -> None:  # noqa: N802 (Qt override)
        painter = QStylePainter(self)
        option = QStyleOptionComboBox()
        self.initStyleOption(option)
        painter.drawComplexControl(QStyle.ComplexControl.CC_ComboBox, option)
        field = self.style().subControlRect(QStyle.ComplexControl.CC_ComboBox, option,
                                            QStyle.SubControl.SC_ComboBoxEditField, self)
        option.currentText = self.fontMetrics().elidedText(option.currentText, Qt.TextElideMode.ElideMiddle,
                                                           field.width())
        painter.drawControl(QStyle.ControlElement.CE_ComboBoxLabel, option)


class ArchitectureEditor(QWidget):
    """The `backbone_architecture` setting: a found cell from the runs, or a file picked with "Browse…".

    `text()` is the chosen file ("" while none is); a file that cannot be used is said under the field.
    """

    changed = Signal()

    def __init__(self, param: HyperParam, parent=None) -> None:
        super().__init__(parent)
        self.param = param
        self.runs_root: Path | None = None
        self._browsed: list[str] = []  # files picked outside the runs, kept in the list
        self._searches = 0  # how many runs' cells are listed
        self.combo = _ListingCombo(self.refresh)
        self.combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.combo.setMinimumContentsLength(8)  # long run names are elided, never widen the panel
        self.browse_button = QPushButton("Browse…")
        self.browse_button.setToolTip(f"Pick any {FILE_NAME} file.")
        self.cell = QLabel()  # the chosen cell, a line per cell kind
        self.cell.setObjectName("hint")
        self.cell.setWordWrap(True)
        self.cell.setTextFormat(Qt.TextFormat.RichText)
        self.problem = error_label()
        self.dialog: QFileDialog | None = None
        # The box gets the whole width (run names are long); Browse… and the cell go under it.
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.browse_button)
        row.addStretch(1)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.combo)
        column.addLayout(row)
        column.addWidget(self.cell)
        column.addWidget(self.problem)
        self.browse_button.clicked.connect(self.browse)
        self.combo.currentIndexChanged.connect(self._on_index)
        self.refresh()

    def setToolTip(self, tip: str) -> None:  # noqa: N802 (the form's tooltip goes on the box)
        super().setToolTip(tip)
        self.combo.setToolTip(tip)

    def showEvent(self, event) -> None:  # noqa: N802 (shown when backbone=searched is chosen: list what is there now)
        super().showEvent(event)
        self.refresh()

    def set_runs_root(self, root: str | Path) -> None:
        self.runs_root = Path(root)
        self.refresh()

    def text(self) -> str:
        return str(self.combo.currentData() or "")

    def set_text(self, text: str) -> None:
        """Choose `text` (a file path): its run's entry if listed, else an entry of its own; "" chooses none."""
        text, before = str(text).strip(), self.text()
        if text and self._index_of(text) < 0:
            if text not in self._browsed:
                self._browsed.append(text)
            self.refresh()
        self.combo.blockSignals(True)
        self.combo.setCurrentIndex(self._index_of(text) if text else -1)
        self.combo.blockSignals(False)
        self._show_cell()
        if self.text() != before:
            self.changed.emit()

    def _index_of(self, path: str) -> int:
        index = self.combo.findData(path)
        return index if index >= 0 else self.combo.findData(_absolute(path))

    def refresh(self) -> None:
        """List the runs' cells again, keeping the choice."""
        chosen = self.text()
        cells = searched_cells(self.runs_root) if self.runs_root is not None else []
        combo = self.combo
        combo.blockSignals(True)
        combo.clear()
        for cell in cells:
            combo.addItem(cell.label, cell.path)
            combo.setItemData(combo.count() - 1, f"{cell.path}\n{cell.summary}", Qt.ItemDataRole.ToolTipRole)
        listed = {cell.path for cell in cells}
        if chosen and _absolute(chosen) not in listed and chosen not in self._browsed:
            self._browsed.append(chosen)  # its run went away: still shown, with why it cannot be used
        for path in self._browsed:
            if _absolute(path) not in listed and combo.findData(path) < 0:
                combo.addItem(_short(path), path)
                combo.setItemData(combo.count() - 1, path, Qt.ItemDataRole.ToolTipRole)
        if not cells:
            # Said in the list too, where a person looks for the searches.
            combo.insertItem(0, NO_SEARCH_YET, "")
            combo.model().item(0).setEnabled(False)
        self._searches = len(cells)
        combo.setPlaceholderText(CHOOSE if cells or self._browsed else NONE_YET)
        combo.setCurrentIndex(self._index_of(chosen) if chosen else -1)
        combo.blockSignals(False)
        self._show_cell()

    def browse(self) -> None:
        """A file dialog (window-modal, not blocking), from the chosen file's folder or the runs folder."""
        if self.text():
            start = Path(self.text()).parent
        elif self.runs_root is not None and self.runs_root.is_dir():
            start = self.runs_root
        else:
            start = Path.home()
        self.dialog = QFileDialog(self, "Choose the architecture file of a search", str(start))
        self.dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        self.dialog.setNameFilters([f"Architecture files ({FILE_NAME} *.json)", "All files (*)"])
        self.dialog.fileSelected.connect(self.set_text)
        self.dialog.open()

    def _on_index(self, _index: int = -1) -> None:
        self._show_cell()
        self.changed.emit()

    def _show_cell(self) -> None:
        """The chosen cell, or why its file cannot be used, or that there is no search to choose from."""
        text, summary, problem = self.text(), "", ""
        if not text and not self._searches:
            summary = html.escape(NO_SEARCH_YET) + "."
        elif text and not Path(text).expanduser().is_file():
            problem = f"No file at {text}."
        elif text:
            try:
                summary = _cell_html(describe_cell(read_architecture(Path(text).expanduser())))
            except ConfigError as exc:
                problem = str(exc)
        self.cell.setText(summary)
        self.problem.setText(problem)
        self.problem.setVisible(bool(problem))


def _cell_html(line: str) -> str:
    """describe_cell's line with a kind a line; a word joiner before each "+" keeps a node whole when it wraps."""
    return "<br>".join(html.escape(kind).replace("+", "\u2060+") for kind in line.split("; "))


def _absolute(path: str) -> str:
    return str(Path(path).expanduser().absolute())


def _short(path: str) -> str:
    """A browsed file by its folder and name: runs/other/architecture.json -> other/architecture.json."""
    parts = Path(path).parts
    return "/".join(parts[-2:]) if len(parts) >= 2 else path
