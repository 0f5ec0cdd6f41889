"""A table's columns fitted to its width: each as wide as its contents where they all fit; where they do
not (a laptop), the long free-text columns give way first, elided, so the table never scrolls sideways
for the short columns people compare runs by."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QHeaderView, QTableView

FLOOR = 40  # the narrowest a giving column gets (a few letters and "…") before the table scrolls sideways


class ColumnFitter(QObject):
    """Fits `view`'s columns when its width or its rows change; `flexible` maps the columns that give way to
    the width each keeps at least (a run's name more than its note)."""

    def __init__(self, view: QTableView, flexible: dict[int, int]) -> None:
        super().__init__(view)
        self.view, self.flexible = view, flexible
        view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        view.horizontalHeader().setStretchLastSection(True)
        view.viewport().installEventFilter(self)
        model = view.model()
        for signal in (model.modelReset, model.layoutChanged, model.rowsInserted, model.dataChanged):
            signal.connect(lambda *_args: self.fit())

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt override)
        if event.type() == QEvent.Type.Resize:
            self.fit()
        return False

    def fit(self) -> None:
        view, header = self.view, self.view.horizontalHeader()
        columns = [c for c in range(view.model().columnCount()) if not header.isSectionHidden(c)]
        if not columns:
            return
        widths = {c: max(view.sizeHintForColumn(c), header.sectionSizeHint(c)) for c in columns}
        available = view.viewport().width() - 2  # the grid's lines
        excess = sum(widths.values()) - available
        if excess > 0:
            give = {c: max(0, widths[c] - least) for c, least in self.flexible.items() if c in widths}
            room = sum(give.values())
            for c, spare in give.items():
                widths[c] -= min(spare, excess * spare // room) if room else 0
            left = sum(widths.values()) - available  # what rounding down left over
            for c in sorted(give, key=lambda c: -widths[c]):
                cut = max(0, min(left, widths[c] - self.flexible[c]))
                widths[c] -= cut
                left -= cut
            # Still too wide: below their wish, to a floor, the column that wished least first (a note before a name).
            for c in sorted(give, key=lambda c: self.flexible[c]):
                cut = max(0, min(left, widths[c] - FLOOR))
                widths[c] -= cut
                left -= cut
        for c in columns:
            header.resizeSection(c, widths[c])
