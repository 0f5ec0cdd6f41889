"""The run list filtered by tag: the proxy the table shows, and the combo box above it that picks the tag."""

from __future__ import annotations

from PySide6.QtCore import QSortFilterProxyModel, Signal
from PySide6.QtWidgets import QComboBox

from workbench.gui.runs.run_table import RunTableModel

ALL_RUNS = "All runs"
UNTAGGED = "Runs without tags"


class RunFilterProxy(QSortFilterProxyModel):
    """Sorts the runs, and keeps only those carrying `tag` (any case) when one is set; UNTAGGED keeps those with none."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.tag = ""

    def set_tag(self, tag: str) -> None:
        if tag != self.tag:
            self.beginFilterChange()
            self.tag = tag
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row, source_parent) -> bool:  # noqa: N802 (Qt override)
        if not self.tag:
            return True
        model = self.sourceModel()
        if not isinstance(model, RunTableModel) or source_row >= len(model.runs):
            return True
        tags = model.runs[source_row].tags
        if self.tag == UNTAGGED:
            return not tags and not model.runs[source_row].builtin
        return self.tag.casefold() in (t.casefold() for t in tags)


class TagFilter(QComboBox):
    """'All runs', each tag the runs carry (with how many), and 'Runs without tags'. `tagChosen` gives the tag,
    UNTAGGED, or "" for all runs."""

    tagChosen = Signal(str)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setToolTip("Show only the runs that carry one tag. Tag a run in its Tags cell: double-click it "
                        "or press F2 there.")
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.setMinimumContentsLength(12)
        self.set_runs([])
        self.currentIndexChanged.connect(lambda _i: self.tagChosen.emit(self.tag()))

    def tag(self) -> str:
        return self.currentData() or ""

    def set_runs(self, runs) -> None:
        """List the tags of `runs`, keeping the tag chosen while any run still carries it."""
        chosen = self.tag()
        counts: dict[str, tuple[str, int]] = {}
        for run in runs:
            for tag in run.tags:
                shown, count = counts.get(tag.casefold(), (tag, 0))
                counts[tag.casefold()] = (shown, count + 1)
        self.blockSignals(True)
        self.clear()
        self.addItem(ALL_RUNS, "")
        for shown, count in sorted(counts.values(), key=lambda item: item[0].casefold()):
            self.addItem(f"{shown} ({count})", shown)
        if counts:
            self.addItem(UNTAGGED, UNTAGGED)
        index = next((i for i in range(self.count()) if (self.itemData(i) or "").casefold() == chosen.casefold()), 0)
        self.setCurrentIndex(index)
        self.blockSignals(False)
        if self.tag() != chosen:
            self.tagChosen.emit(self.tag())
