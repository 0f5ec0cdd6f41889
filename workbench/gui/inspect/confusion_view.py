"""Per-class accuracy and the confusion matrix of an evaluation, as sortable tables."""

from __future__ import annotations

import math

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from workbench.gui.counted import counted
from workbench.gui.inspect.class_names import display_names
from workbench.inspect.evaluation import Inspection

SORT_ROLE = Qt.ItemDataRole.UserRole + 1


def short_name(key: str, names: dict[str, str] | None = None) -> str:
    """The name shown for a class key: from `names` (display_names of the view) when given, else
    its last folder ('alphabet/char_07' -> 'char_07'); the full key is the tooltip."""
    return names[key] if names and key in names else key.rsplit("/", 1)[-1]


class PerClassModel(QAbstractTableModel):
    COLUMNS = ("Class", "Accuracy", "Correct", "Queries")

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.rows: list[dict] = []

    def set_inspection(self, inspection: Inspection | None) -> None:
        self.beginResetModel()
        self.rows = list(inspection.per_class) if inspection else []
        self.names = display_names([row["class"] for row in self.rows])
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802 (Qt override)
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.COLUMNS[section]
        return None

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        row = self.rows[index.row()]
        column = index.column()
        accuracy = row["accuracy"]
        if role == Qt.ItemDataRole.DisplayRole:
            return (self.names[row["class"]], "—" if accuracy != accuracy else f"{100 * accuracy:.1f}%",
                    str(row["correct"]), str(row["total"]))[column]
        if role == Qt.ItemDataRole.ToolTipRole and column == 0:
            return row["class"]
        if role == SORT_ROLE:
            return (row["class"], -1.0 if accuracy != accuracy else accuracy, row["correct"], row["total"])[column]
        if role == Qt.ItemDataRole.BackgroundRole and column == 1 and accuracy == accuracy:
            return _accuracy_color(accuracy)
        return None


class ConfusionModel(QAbstractTableModel):
    """Rows: the true class; columns: the predicted class; cells: query counts (diagonal: correct)."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.classes: list[str] = []
        self.matrix: list[list[int]] = []
        self._largest_off_diagonal = 1

    def set_inspection(self, inspection: Inspection | None) -> None:
        self.beginResetModel()
        self.classes = list(inspection.classes) if inspection else []
        self.names = display_names(self.classes)
        self.matrix = [list(r) for r in inspection.confusion] if inspection else []
        off = [v for i, r in enumerate(self.matrix) for j, v in enumerate(r) if i != j]
        self._largest_off_diagonal = max(off + [1])
        self.endResetModel()

    def top_confusions(self, limit: int = 50) -> list[tuple[int, str, str]]:
        """(count, true class, predicted class) of the off-diagonal cells, most queries first."""
        cells = [(v, self.classes[i], self.classes[j]) for i, r in enumerate(self.matrix) for j, v in enumerate(r)
                 if i != j and v]
        return sorted(cells, key=lambda c: (-c[0], c[1], c[2]))[:limit]

    def total(self) -> int:
        """All queries counted in the matrix (every query lands in exactly one cell)."""
        return sum(self.data(self.index(i, j), SORT_ROLE) for i in range(self.rowCount()) for j in range(self.columnCount()))

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.classes)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.classes)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if role == Qt.ItemDataRole.DisplayRole:
            # Columns by number, so that a 20-way matrix fits a laptop; rows say the number and the name.
            number = str(section + 1)
            return f"{number}  {self.names[self.classes[section]]}" if orientation == Qt.Orientation.Vertical else number
        if role == Qt.ItemDataRole.ToolTipRole:
            return ("true: " if orientation == Qt.Orientation.Vertical else "predicted: ") + self.classes[section]
        return None

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        value = self.matrix[index.row()][index.column()]
        diagonal = index.row() == index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return str(value) if value else ""
        if role == SORT_ROLE:
            return value
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{counted(value, 'query')} of {self.classes[index.row()]} predicted as {self.classes[index.column()]}"
        if role == Qt.ItemDataRole.BackgroundRole and value:
            if diagonal:
                return QColor(46, 125, 50, 60 + int(120 * min(1.0, value / max(1, sum(self.matrix[index.row()])))))
            return QColor(198, 40, 40, 50 + int(180 * value / self._largest_off_diagonal))
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(Qt.AlignmentFlag.AlignCenter)
        return None


class TopConfusions(QTableWidget):
    """The confusion matrix's largest off-diagonal cells as a ranked list: readable with any number of classes."""

    def __init__(self, parent=None) -> None:
        super().__init__(0, 3, parent)
        self.setHorizontalHeaderLabels(["Queries", "True class", "Predicted as"])
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.verticalHeader().hide()
        self.horizontalHeader().setStretchLastSection(True)

    def show_confusions(self, model: ConfusionModel) -> None:
        cells = model.top_confusions()
        self.setRowCount(len(cells))
        for r, (count, true, predicted) in enumerate(cells):
            for c, (text, tip) in enumerate(((str(count), ""), (model.names[true], true),
                                             (model.names[predicted], predicted))):
                item = QTableWidgetItem(text)
                item.setToolTip(tip)
                self.setItem(r, c, item)
        self.resizeColumnsToContents()


def _accuracy_color(accuracy: float) -> QColor:
    # red (0%) -> amber -> green (100%), translucent so text reads in both themes
    hue = int(120 * max(0.0, min(1.0, accuracy)))
    color = QColor.fromHsv(hue, 200, 220)
    color.setAlpha(110)
    return color


CONFUSION_CAPTION = ("Rows: the true class · columns: the class predicted, numbered as the rows · "
                     "click a cell to see its images.")


def captioned(table: QTableView, caption: str) -> QWidget:
    """`table` under a line that says what its axes are."""
    box = QWidget()
    label = QLabel(caption)
    label.setObjectName("hint")
    label.setWordWrap(True)
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 2, 0, 0)
    layout.addWidget(label)
    layout.addWidget(table, 1)
    return box


def make_table(model: QAbstractTableModel, sortable: bool) -> QTableView:
    view = QTableView()
    if sortable:
        proxy = QSortFilterProxyModel(view)
        proxy.setSourceModel(model)
        proxy.setSortRole(SORT_ROLE)
        view.setModel(proxy)
        view.setSortingEnabled(True)
    else:
        view.setModel(model)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    if not sortable:
        view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        view.horizontalHeader().setMinimumSectionSize(28)
    else:
        view.horizontalHeader().setStretchLastSection(True)
        view.verticalHeader().hide()
    return view


def accuracy_text(inspection: Inspection) -> str:
    ci = "" if math.isnan(inspection.ci95) else f" ± {100 * inspection.ci95:.1f}"
    return f"{100 * inspection.accuracy:.1f}%{ci}"
