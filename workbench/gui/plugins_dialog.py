"""The Plugins dialog: which plugins are loaded (or why not), and the places plugins may come from."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from workbench.catalogue import plugins
from workbench.errors import WorkbenchError
from workbench.gui.counted import counted

COLUMNS = ("Plugin", "Status", "Provides", "From", "Location")


class PluginsDialog(QDialog):
    """Lists every plugin with where it came from and whether it loaded (with the error if not),
    and edits the places plugins are loaded from. Every change is saved to the settings file at once.

    A newly enabled place loads right away (and `plugins_changed` is emitted so the
    algorithm list can refresh); one switched off takes effect at the next start,
    since imported code cannot be unloaded.
    """

    plugins_changed = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Plugins")
        self.resize(820, 480)
        layout = QVBoxLayout(self)
        intro = QLabel("Plugins are Python code that adds algorithms or backbones. They run only from the places "
                       "switched on below. Write one by copying plugins/cosine_prototypes/.")
        intro.setWordWrap(True)
        layout.addWidget(intro)

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(len(COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)
        layout.addWidget(self.table, 1)
        self.error_label = QLabel()  # the errors of failed plugins, in full, selectable for a bug report
        self.error_label.setWordWrap(True)
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_label.setObjectName("pluginErrors")
        layout.addWidget(self.error_label)

        places = QGroupBox("Where plugins come from")
        places_layout = QVBoxLayout(places)
        self.enabled_box = QCheckBox("Load plugins (off: only the built-in algorithms)")
        self.project_box = QCheckBox(f"Example plugins shipped with the workbench ({plugins.PROJECT_PLUGINS})")
        self.entry_points_box = QCheckBox(f"Installed packages that declare '{plugins.ENTRY_POINT_GROUP}'")
        for box in (self.enabled_box, self.project_box, self.entry_points_box):
            places_layout.addWidget(box)
            box.toggled.connect(self._places_toggled)
        places_layout.addWidget(QLabel("Your plugin folders:"))
        self.folder_list = QListWidget()
        self.folder_list.setMaximumHeight(100)
        places_layout.addWidget(self.folder_list)
        buttons = QHBoxLayout()
        self.add_button = QPushButton("Add folder…")
        self.remove_button = QPushButton("Remove folder")
        self.add_button.clicked.connect(self._choose_folder)
        self.remove_button.clicked.connect(self.remove_selected_folder)
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        places_layout.addLayout(buttons)
        self.note = QLabel()
        self.note.setWordWrap(True)
        places_layout.addWidget(self.note)
        layout.addWidget(places)

        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout.addWidget(close)
        self._show_settings()
        self.refresh()

    # --- what is shown -------------------------------------------------------------
    def _show_settings(self) -> None:
        settings = plugins.current_settings()
        for box, value in ((self.enabled_box, settings.enabled), (self.project_box, settings.project_folder),
                           (self.entry_points_box, settings.entry_points)):
            box.blockSignals(True)
            box.setChecked(value)
            box.blockSignals(False)
        self.folder_list.clear()
        self.folder_list.addItems(settings.folders)
        problem = plugins.settings_problem()
        self.note.setText(problem or "Changes are saved at once. A place switched off takes effect when the "
                                     "workbench next starts.")

    def refresh(self) -> None:
        """Fill the table from the plugins' current status."""
        statuses = plugins.statuses()
        self.table.setRowCount(len(statuses))
        for row, status in enumerate(statuses):
            provides = ", ".join([*status.algorithms, *(f"{b} (backbone)" for b in status.backbones)])
            cells = (status.name, "loaded" if status.loaded else "failed", provides, status.source, status.origin)
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if not status.loaded:
                    item.setToolTip(status.error)
                    if column == 1:
                        item.setForeground(Qt.GlobalColor.darkRed)
                self.table.setItem(row, column, item)
        self.table.resizeColumnsToContents()
        failed = [s for s in statuses if not s.loaded]
        if not statuses:
            why = "" if plugins.enabled() else " (plugin loading is off)"
            self.error_label.setText(f"No plugins loaded{why}.")
        elif failed:
            self.error_label.setText("Not loaded, and left out:\n" + "\n".join(f"{s.name}: {s.error}" for s in failed))
        else:
            self.error_label.setText("The plugin loaded." if len(statuses) == 1
                                     else f"All {counted(len(statuses), 'plugin')} loaded.")

    def row_texts(self) -> list[tuple[str, ...]]:
        """The table's cells as text, row by row (what a user reads)."""
        return [tuple(self.table.item(r, c).text() for c in range(self.table.columnCount()))
                for r in range(self.table.rowCount())]

    # --- changes -----------------------------------------------------------------
    def _places_toggled(self) -> None:
        settings = plugins.current_settings()
        settings.enabled = self.enabled_box.isChecked()
        settings.project_folder = self.project_box.isChecked()
        settings.entry_points = self.entry_points_box.isChecked()
        self._apply(settings)

    def _choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Choose a plugin folder")
        if folder:
            self.add_folder(folder)

    def add_folder(self, folder: str) -> None:
        """Add a plugin folder to the settings and load its plugins now."""
        settings = plugins.current_settings()
        if settings.add_folder(folder):
            self._apply(settings)

    def remove_selected_folder(self) -> None:
        item = self.folder_list.currentItem()
        if item is None:
            return
        settings = plugins.current_settings()
        if settings.remove_folder(item.text()):
            self._apply(settings)

    def _apply(self, settings) -> None:
        try:
            plugins.use_settings(settings)
        except WorkbenchError as exc:
            self.note.setText(str(exc))
            return
        self._show_settings()
        self.refresh()
        self.plugins_changed.emit()
