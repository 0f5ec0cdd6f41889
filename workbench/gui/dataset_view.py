"""What a scanned dataset holds: its classes, a few images of the selected class, and its problems."""

from __future__ import annotations

from PySide6.QtCore import QItemSelection, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QLineEdit,
    QSplitter,
    QStackedWidget,
    QTableView,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from workbench.data import problems as P
from workbench.data.problems import Problem, printable
from workbench.data.sources import ClassEntry, DatasetScan
from workbench.gui.class_table import ClassTableModel, make_proxy
from workbench.gui.class_strip import MAX_THUMBS, ThumbnailStrip
from workbench.gui.counted import noun
from workbench.gui.readable_counts import ReadableCounts, describe_counts, readable_counts

PROBLEM_TITLES = {
    P.NOT_AN_IMAGE: "Not an image",
    P.UNREADABLE: "Unreadable image",
    P.UNREADABLE_FOLDER: "Unreadable folder",
    P.EMPTY_CLASS: "Empty class",
    P.TOO_FEW_IMAGES: "Too few images",
    P.TOO_FEW_CLASSES: "Too few classes",
    P.DUPLICATE_CLASS: "Merged classes",
    P.TOO_LARGE: "Too large",
    P.UNSAFE_PATH: "Unsafe path",
}

FIRST_HINT = (
    "<h2>Choose a dataset folder or zip to begin</h2>"
    "<p><b>1.</b> Open your images: <a href='open-folder'>a dataset folder</a> (Ctrl+O) or "
    "<a href='open-zip'>a zip</a> (Ctrl+Shift+O), or drop one on this window. "
    "Each folder of images is one class; folders above a class are its group "
    "(Omniglot: <i>alphabet/character/</i>).</p>"
    "<p>No data of your own? <a href='demo'><b>Create a demo dataset</b></a> (Ctrl+D): 300 drawn glyph "
    "classes, made here in seconds, no network needed. Online? <a href='omniglot'>Get Omniglot</a>.</p>"
    "<p><b>2.</b> Set the episodes (N ways, K shots) on the left, pick an algorithm and press "
    "<b>Start training</b> (Ctrl+R); curves appear on the <b>Training</b> page.</p>"
    "<p><b>3.</b> Label your own images with the trained model on the <b>Label</b> page; compare runs on the "
    "<b>Runs</b> page and look at their mistakes on the <b>Inspect</b> page.</p>"
    "<p>Or <a href='open-project'>open a saved project</a> (Ctrl+Alt+O). Only labelling a folder of your own? "
    "The <b>Label</b> page (Ctrl+3) works at once, with a built-in model: no training needed.</p>"
)


def _label(text: str = "", object_name: str = "") -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    if object_name:
        label.setObjectName(object_name)
    return label


class DatasetView(QWidget):
    """Shows a DatasetScan: a sortable, filterable class table, thumbnails of the selected
    class, and the readable list of problems (added to as the background check finds more).

    Before any scan it shows the first-screen hint instead.
    """

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.scan: DatasetScan | None = None
        self.problems: list[Problem] = []
        self.checked: ReadableCounts | None = None  # what decodes, once the image check has finished
        self.stack = QStackedWidget()
        self.hint = _label(FIRST_HINT, "firstHint")
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.hint.setTextFormat(Qt.TextFormat.RichText)
        self.stack.addWidget(self.hint)
        self.stack.addWidget(self._content())
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.stack)

    def _content(self) -> QWidget:
        self.summary = _label(object_name="summary")
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter classes by group or name…")
        self.filter.setClearButtonEnabled(True)
        self.model = ClassTableModel(self)
        self.proxy = make_proxy(self.model)
        self.filter.textChanged.connect(self.proxy.setFilterFixedString)
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(-1, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(22)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        # Size the count column from the rows in view, not all of them: 2 000 classes took 0.2 s.
        self.table.horizontalHeader().setResizeContentsPrecision(0)
        self.table.selectionModel().selectionChanged.connect(self._on_selection)

        self.thumbs_title = _label("Select a class to see its images.", "sectionTitle")
        self.thumbnails = ThumbnailStrip()
        self.problems_title = _label("Problems", "sectionTitle")
        self.check_status = _label(object_name="hint")
        self.problems_tree = QTreeWidget()
        self.problems_tree.setHeaderLabels(["Problem", "What happened", "Where"])
        self.problems_tree.setRootIsDecorated(False)
        self.problems_tree.setAlternatingRowColors(True)
        self.problems_tree.setWordWrap(True)
        self.problems_tree.header().resizeSection(0, 130)
        self.problems_tree.header().resizeSection(1, 330)

        table_side = QWidget()
        table_layout = QVBoxLayout(table_side)
        table_layout.setContentsMargins(0, 0, 0, 0)
        table_layout.addWidget(self.filter)
        table_layout.addWidget(self.table)
        thumbs_side = QWidget()
        thumbs_layout = QVBoxLayout(thumbs_side)
        thumbs_layout.setContentsMargins(0, 0, 0, 0)
        thumbs_layout.addWidget(self.thumbs_title)
        thumbs_layout.addWidget(self.thumbnails)
        top = QSplitter(Qt.Orientation.Horizontal)
        top.addWidget(table_side)
        top.addWidget(thumbs_side)
        top.setSizes([420, 520])
        problems_side = QWidget()
        problems_layout = QVBoxLayout(problems_side)
        problems_layout.setContentsMargins(0, 0, 0, 0)
        problems_layout.addWidget(self.problems_title)
        problems_layout.addWidget(self.check_status)
        problems_layout.addWidget(self.problems_tree)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(top)
        split.addWidget(problems_side)
        split.setSizes([520, 220])
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(self.summary)
        layout.addWidget(split, 1)
        return page

    # --- showing -------------------------------------------------------------
    def show_scan(self, scan: DatasetScan) -> None:
        self.scan = scan
        self.checked = None
        self.model.set_classes(scan.classes)
        self.problems = []
        self.problems_tree.clear()
        self.add_problems(scan.problems)
        self.thumbnails.show_class(None)
        self.thumbs_title.setText("Select a class to see its images.")
        # The previous dataset's check says nothing about this one (and an empty one has nothing to check).
        self.check_status.setText("Checking that every image decodes…" if scan.classes else "")
        self._update_summary()
        self.stack.setCurrentIndex(1)
        if scan.classes:
            self.table.selectRow(0)

    def show_hint(self) -> None:
        self.scan = None
        self.model.set_classes([])
        self.stack.setCurrentIndex(0)

    def add_problems(self, problems: list[Problem]) -> None:
        for problem in problems:
            self.problems.append(problem)
            item = QTreeWidgetItem([PROBLEM_TITLES.get(problem.kind, problem.kind.replace("-", " ").capitalize()),
                                    printable(problem.message), printable(problem.path)])
            for column in range(3):
                item.setToolTip(column, str(problem))
            self.problems_tree.addTopLevelItem(item)
        self._update_summary()

    def show_check_result(self, problems: list[Problem]) -> None:
        """The image check's problems; counts from now on are of the images that decode."""
        self.checked = readable_counts(self.scan, problems)
        self.model.set_readable(self.checked.per_class)
        self.add_problems(problems)

    @property
    def counts(self) -> ReadableCounts | None:
        """Classes and images of the scan shown: those that decode once checked, those found until then."""
        if self.scan is None:
            return None
        return self.checked or ReadableCounts(len(self.scan.classes), self.scan.image_count)

    def set_check_progress(self, done: int, total: int, finished: bool = False) -> None:
        if finished:
            # Of the images checked: an unreadable file the scan already left out is not one of them.
            broken = self.checked.unreadable if self.checked else 0
            checked = f"All {total:,} images checked" if total != 1 else "The one image checked"
            self.check_status.setText(f"{checked}: {broken:,} could not be decoded." if broken
                                      else f"{checked}: every image decodes." if total != 1 else f"{checked}: it decodes.")
        else:
            self.check_status.setText(f"Checking that every image decodes… {done:,} of {total:,}")

    def _update_summary(self) -> None:
        scan = self.scan
        if scan is None:
            return
        groups = len([g for g in scan.groups if g])
        parts = describe_counts(scan, self.counts, bold=True)
        if groups:
            parts.append(f"<b>{groups:,}</b> {noun(groups, 'group')}")
        count = len(self.problems)
        parts.append(f"<b>{count:,}</b> {noun(count, 'problem')}" if count else "no problems")
        self.summary.setText(" · ".join(parts) + "<br><span style='color:gray'>"
                             + "<br>".join(scan.roots) + "</span>")
        self.problems_title.setText(f"Problems ({count})" if count else "Problems: none found")

    def _on_selection(self, selected: QItemSelection, _deselected: QItemSelection) -> None:
        indexes = selected.indexes()
        entry: ClassEntry | None = indexes[0].data(Qt.ItemDataRole.UserRole) if indexes else None
        if entry is None:
            return
        self.thumbnails.show_class(entry)
        shown = min(len(entry.images), MAX_THUMBS)
        more = f" (first {shown} of {len(entry.images)})" if len(entry.images) > shown else ""
        broken = f" — {self.thumbnails.broken} cannot be read" if self.thumbnails.broken else ""
        self.thumbs_title.setText(f"Images of <b>{entry.key}</b>{more}{broken}")
