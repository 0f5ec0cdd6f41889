"""Where the data comes from: one or more dataset paths (folders or .zip files)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

ZIP_FILTER = "Zip archives (*.zip);;All files (*)"


class DatasetPathRow(QWidget):
    """A path field with Folder… and Zip… buttons (and a remove button on extra rows)."""

    chosen = Signal()
    removeRequested = Signal(object)

    def __init__(self, removable: bool, parent=None) -> None:
        super().__init__(parent)
        self.edit = QLineEdit()
        self.edit.setPlaceholderText("Folder or .zip of class folders")
        self.edit.setClearButtonEnabled(True)
        self.edit.setToolTip("A folder (or .zip) whose leaf folders are classes of images. Press Enter to load.")
        self._announced = ""
        # Enter always (re)loads; leaving the field loads only a path that changed.
        self.edit.returnPressed.connect(self._announce)
        self.edit.editingFinished.connect(lambda: self.path != self._announced and self._announce())
        folder = QPushButton("Folder…")
        folder.setToolTip("Choose a dataset folder.")
        folder.clicked.connect(self.browse_folder)
        archive = QPushButton("Zip…")
        archive.setToolTip("Choose a dataset .zip file.")
        archive.clicked.connect(self.browse_zip)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.edit, 1)
        layout.addWidget(folder)
        layout.addWidget(archive)
        if removable:
            remove = QToolButton()
            remove.setText("✕")
            remove.setToolTip("Stop using this dataset.")
            remove.clicked.connect(lambda: self.removeRequested.emit(self))
            layout.addWidget(remove)

    @property
    def path(self) -> str:
        return self.edit.text().strip()

    def show_path(self, path: str) -> None:
        """Put `path` in the field as already announced (the panel announces the whole set once)."""
        self.edit.setText(path)
        self._announced = path

    def set_path(self, path: str) -> None:
        self.edit.setText(path)
        self._announce()

    def _announce(self) -> None:
        self._announced = self.path
        self.chosen.emit()

    def browse_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Choose a dataset folder", self.path)
        if path:
            self.set_path(path)

    def browse_zip(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose a dataset zip", self.path, ZIP_FILTER)
        if path:
            self.set_path(path)


class DataPanel(QWidget):
    """The list of dataset paths a run trains on; `pathsChanged` fires when a path is chosen.

    A second dataset is merged with the first (Omniglot's two background zips
    share some alphabets; the scan merges those classes).
    """

    pathsChanged = Signal(list)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.rows: list[DatasetPathRow] = []
        self._rows_layout = QVBoxLayout()
        self._rows_layout.setSpacing(4)
        self.summary = QLabel("No dataset chosen yet.")
        self.summary.setObjectName("hint")
        self.summary.setWordWrap(True)
        self.add_button = QPushButton("+ Add another dataset")
        self.add_button.setToolTip("Train on the classes of several datasets together.")
        self.add_button.clicked.connect(lambda: self.add_row().edit.setFocus())
        add_row = QHBoxLayout()
        add_row.addWidget(self.add_button)
        add_row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self._rows_layout)
        layout.addLayout(add_row)
        layout.addWidget(self.summary)
        self.add_row()

    def add_row(self) -> DatasetPathRow:
        row = DatasetPathRow(removable=bool(self.rows))
        row.chosen.connect(self._emit_paths)
        row.removeRequested.connect(self._remove_row)
        self.rows.append(row)
        self._rows_layout.addWidget(row)
        return row

    def paths(self) -> list[str]:
        return [row.path for row in self.rows if row.path]

    def set_paths(self, paths: list[str]) -> None:
        """Put these paths in the fields (adding rows as needed) and announce them once."""
        while len(self.rows) < max(1, len(paths)):
            self.add_row()
        for row, path in zip(self.rows, list(paths) + [""] * len(self.rows)):
            row.show_path(path)
        self._emit_paths()

    def add_path(self, path: str) -> None:
        """Use `path` in the first empty field, or a new one."""
        empty = next((row for row in self.rows if not row.path), None) or self.add_row()
        empty.set_path(path)

    def _remove_row(self, row: DatasetPathRow) -> None:
        self.rows.remove(row)
        row.setParent(None)
        row.deleteLater()
        self._emit_paths()

    def _emit_paths(self) -> None:
        self.pathsChanged.emit(self.paths())
