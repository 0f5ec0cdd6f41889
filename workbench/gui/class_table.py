"""A table model of a scan's classes: group, class, image count."""

from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QSortFilterProxyModel, Qt

from workbench.data.sources import ClassEntry
from workbench.gui.counted import counted


class ClassTableModel(QAbstractTableModel):
    """Rows are ClassEntry objects; sorting by the count column sorts numerically."""

    HEADERS = ("Group", "Class", "Images")

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.classes: list[ClassEntry] = []
        self.readable: dict[str, int] = {}  # class key -> images that decode, where the check found fewer

    def set_classes(self, classes: list[ClassEntry]) -> None:
        self.beginResetModel()
        self.classes = list(classes)
        self.readable = {}
        self.endResetModel()

    def set_readable(self, readable: dict[str, int]) -> None:
        """Show, for the classes named, how many images decode instead of how many files were found."""
        self.readable = dict(readable)
        if self.classes:
            self.dataChanged.emit(self.index(0, 2), self.index(len(self.classes) - 1, 2))

    def rowCount(self, parent: QModelIndex | None = None) -> int:  # noqa: N802 (Qt override)
        return 0 if parent is not None and parent.isValid() else len(self.classes)

    def columnCount(self, parent: QModelIndex | None = None) -> int:  # noqa: N802
        return 0 if parent is not None and parent.isValid() else len(self.HEADERS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.HEADERS[section]
        return None

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        entry = self.classes[index.row()]
        column = index.column()
        readable = self.readable.get(entry.key, len(entry.images))
        if role == Qt.ItemDataRole.DisplayRole:
            return (entry.group or "—", entry.name, readable)[column]
        if role == Qt.ItemDataRole.ToolTipRole:
            broken = len(entry.images) - readable
            return f"{entry.key}: {counted(readable, 'image')}" + (f" ({broken:,} more cannot be read)" if broken else "")
        if role == Qt.ItemDataRole.TextAlignmentRole and column == 2:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.UserRole:
            return entry
        return None


def make_proxy(model: ClassTableModel) -> QSortFilterProxyModel:
    """A sorting proxy whose filter matches group or class name, case-insensitively."""
    proxy = QSortFilterProxyModel()
    proxy.setSourceModel(model)
    proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
    proxy.setFilterKeyColumn(-1)
    proxy.setSortRole(Qt.ItemDataRole.DisplayRole)
    return proxy
