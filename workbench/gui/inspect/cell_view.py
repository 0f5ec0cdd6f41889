"""The images of one confusion-matrix cell: every query of true class A that was predicted as B."""

from __future__ import annotations

from PySide6.QtWidgets import QGridLayout, QLabel, QScrollArea, QVBoxLayout, QWidget

from workbench.gui.inspect.mistakes_view import ImageSource, percent, tile
from workbench.inspect.cells import CellQuery

COLUMNS = 8
HINT = "Click a cell of the confusion matrix (or a row of Top confusions) to see its images here."


class CellView(QWidget):
    """A title saying which cell, then its query images in a grid, the most confident first
    (framed green on the diagonal, where they are right; red elsewhere)."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.queries: list[CellQuery] = []
        self.tiles: list[QLabel] = []
        self.title = QLabel()
        self.title.setWordWrap(True)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.scroll, 1)
        self.show_message(HINT)

    def show_message(self, text: str, title: str = "") -> None:
        self.queries, self.tiles = [], []
        self.title.setText(title)
        self.title.setVisible(bool(title))
        label = QLabel(text)
        label.setObjectName("hint")
        label.setWordWrap(True)
        self.scroll.setWidget(label)

    def show_queries(self, title: str, queries: list[CellQuery], images: ImageSource, paths: list[str],
                     right: bool) -> None:
        """`queries` as tiles; `paths` names each cache row (the tooltip), `right`: the diagonal."""
        self.title.setText(title)
        self.title.show()
        body = QWidget()
        grid = QGridLayout(body)
        self.queries, self.tiles = list(queries), []
        color = "#2e7d32" if right else "#c62828"
        for i, query in enumerate(queries):
            path = paths[query.query_row]
            image = tile(images(query.query_row, query.turns, path), color)
            image.setToolTip(f"{path}\n{percent(query.confidence)} sure · episode {query.episode + 1}")
            grid.addWidget(image, i // COLUMNS, i % COLUMNS)
            self.tiles.append(image)
        grid.setRowStretch(len(queries) // COLUMNS + 1, 1)
        grid.setColumnStretch(COLUMNS, 1)
        self.scroll.setWidget(body)
