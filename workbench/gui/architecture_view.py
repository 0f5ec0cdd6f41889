"""The architecture a search is forming, or the searched cell a run trains on, drawn from its record.

For each cell kind: a heat map of every edge's mix of operations (the softmax of alpha at the current
temperature; the operations the cell keeps are framed) and the cell itself as a graph, the cell's two
inputs on the left, its nodes in the middle, their concatenation on the right, each kept edge labelled
with its operation. The record is architecture.json's (workbench/inspect/architecture.py reads it),
so a live event, a saved run and a searched backbone draw the same way.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFontMetrics, QPainter, QPainterPath, QPalette, QPen
from PySide6.QtWidgets import QBoxLayout, QLabel, QScrollArea, QSizePolicy, QTabWidget, QVBoxLayout, QWidget

from workbench.inspect.architecture import KIND_TITLES, CellReading, kinds_used, load_record, read_cell, short_name, \
    state_name, summary

EMPTY_TEXT = ("The architecture appears here while a run searches one (metanas) or trains on a searched cell "
              "(backbone=searched).")
ROW_HEIGHT, HEADER_HEIGHT, COLUMN_WIDTH, LABEL_WIDTH = 18, 30, 40, 62


def _blend(low: QColor, high: QColor, share: float) -> QColor:
    share = min(1.0, max(0.0, share))
    return QColor.fromRgbF(*(a + (b - a) * share for a, b in zip(low.getRgbF()[:3], high.getRgbF()[:3])))


class MixHeatMap(QWidget):
    """Rows: edges; columns: operations; fill: the operation's share of the edge's mix."""

    def __init__(self, cell: CellReading, parent=None) -> None:
        super().__init__(parent)
        self.cell = cell
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.setToolTip("Each edge's mix of operations (rows sum to 100%). Framed: the operations the cell keeps, "
                        "two inputs per node.")

    def set_cell(self, cell: CellReading) -> None:
        changed_shape = (cell.mix is None) != (self.cell.mix is None) or (
            cell.mix is not None and len(cell.mix.edges) != len(self.cell.mix.edges))
        self.cell = cell
        if changed_shape:
            self.updateGeometry()
        self.update()

    def sizeHint(self) -> QSize:
        mix = self.cell.mix
        if mix is None:
            return QSize(0, 0)
        return QSize(LABEL_WIDTH + COLUMN_WIDTH * len(mix.operations), HEADER_HEIGHT + ROW_HEIGHT * len(mix.edges) + 1)

    def paintEvent(self, _event) -> None:
        mix = self.cell.mix
        if mix is None:
            return
        palette = self.palette()
        base, high = palette.color(QPalette.ColorRole.Base), palette.color(QPalette.ColorRole.Highlight)
        text, high_text = palette.color(QPalette.ColorRole.Text), palette.color(QPalette.ColorRole.HighlightedText)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        small = painter.font()
        small.setPointSizeF(max(7.0, small.pointSizeF() * 0.85))
        painter.setFont(small)
        painter.setPen(text)
        for column, name in enumerate(mix.operations):
            rect = QRectF(LABEL_WIDTH + column * COLUMN_WIDTH, 0, COLUMN_WIDTH, HEADER_HEIGHT)
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, short_name(name).replace(" ", "\n"))
        for row, shares in enumerate(mix.shares):
            top = HEADER_HEIGHT + row * ROW_HEIGHT
            painter.setPen(text)
            painter.drawText(QRectF(0, top, LABEL_WIDTH - 6, ROW_HEIGHT),
                             Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, mix.row_label(row))
            source, target = mix.edges[row]
            for column, share in enumerate(shares):
                rect = QRectF(LABEL_WIDTH + column * COLUMN_WIDTH, top, COLUMN_WIDTH - 1, ROW_HEIGHT - 1)
                painter.fillRect(rect, _blend(base, high, share))
                painter.setPen(high_text if share > 0.55 else text)
                painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, f"{100 * share:.0f}%")
                if self.cell.is_kept(source, target, mix.operations[column]):
                    painter.setPen(QPen(text, 2))
                    painter.drawRect(rect.adjusted(1, 1, -1, -1))
        painter.end()


class CellGraph(QWidget):
    """The kept cell: inputs c₋₂ and c₋₁, nodes 2.., their concatenation; edges labelled by operation."""

    RADIUS = 13

    def __init__(self, cell: CellReading, parent=None) -> None:
        super().__init__(parent)
        self.cell = cell
        self.setMinimumSize(300, 210)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def set_cell(self, cell: CellReading) -> None:
        self.cell = cell
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(200 + 110 * max(1, self.cell.nodes), 210)

    def positions(self) -> dict[object, QPointF]:
        """Where each state is drawn: the inputs top and bottom left, the nodes zig-zag across, "out" right."""
        nodes = max(1, self.cell.nodes)
        margin = self.RADIUS + 6
        width, height = self.width() - 2 * margin, self.height() - 2 * margin
        where: dict[object, QPointF] = {0: QPointF(margin, margin + 0.1 * height),
                                        1: QPointF(margin, margin + 0.9 * height)}
        for node in range(nodes):
            x = margin + width * (0.3 + 0.5 * node / max(1, nodes - 1)) if nodes > 1 else margin + 0.55 * width
            where[node + 2] = QPointF(x, margin + (0.3 if node % 2 == 0 else 0.7) * height)
        where["out"] = QPointF(margin + width, margin + 0.5 * height)
        return where

    def paintEvent(self, _event) -> None:
        palette = self.palette()
        text = palette.color(QPalette.ColorRole.Text)
        base = palette.color(QPalette.ColorRole.Base)
        accent = palette.color(QPalette.ColorRole.Highlight)
        faint = QColor(text)
        faint.setAlphaF(0.45)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        small = painter.font()
        small.setPointSizeF(max(7.0, small.pointSizeF() * 0.85))
        painter.setFont(small)
        where = self.positions()
        painter.setPen(QPen(faint, 1, Qt.PenStyle.DashLine))
        for node in range(self.cell.nodes):
            painter.drawLine(where[node + 2], where["out"])
        paths = []
        for index, edge in enumerate(self.cell.kept):
            if edge.source not in where or edge.target not in where:
                continue
            start, end = where[edge.source], where[edge.target]
            bend = 14.0 if index % 2 == 0 else -14.0
            length = max(1.0, math.hypot(end.x() - start.x(), end.y() - start.y()))
            control = (start + end) / 2 + QPointF(-(end.y() - start.y()) / length * bend,
                                                  (end.x() - start.x()) / length * bend)
            path = QPainterPath(start)
            path.quadTo(control, end)
            painter.setPen(QPen(accent, 1.8))
            painter.drawPath(path)
            paths.append((path, edge))
        circles = [QRectF(p.x() - self.RADIUS - 2, p.y() - self.RADIUS - 2, 2 * self.RADIUS + 4, 2 * self.RADIUS + 4)
                   for p in where.values()]
        labels = self._place_labels(paths, circles, QFontMetrics(small))
        for state, point in where.items():
            painter.setPen(QPen(text, 1.2))
            painter.setBrush(base)
            painter.drawEllipse(point, self.RADIUS, self.RADIUS)
            name = "out" if state == "out" else state_name(state)
            painter.drawText(QRectF(point.x() - self.RADIUS, point.y() - self.RADIUS, 2 * self.RADIUS, 2 * self.RADIUS),
                             Qt.AlignmentFlag.AlignCenter, name)
        for box, label in labels:  # last, so that no line crosses a label
            painter.setPen(QPen(accent, 1))
            painter.setBrush(base)
            painter.drawRoundedRect(box, 3, 3)
            painter.setPen(text)
            painter.drawText(box, Qt.AlignmentFlag.AlignCenter, label)
        painter.end()

    @staticmethod
    def _place_labels(paths, taken: list[QRectF], metrics: QFontMetrics) -> list[tuple[QRectF, str]]:
        """Each edge's operation on the edge, at the first point along it where the label covers no node and no
        other label (the middle first)."""
        placed = []
        for path, edge in paths:
            label = short_name(edge.operation)
            box = QRectF(metrics.boundingRect(label)).adjusted(-3, -1, 3, 1)
            for t in (0.5, 0.38, 0.62, 0.28, 0.72, 0.2, 0.8):
                box.moveCenter(path.pointAtPercent(t))
                if not any(box.intersects(other) for other in taken):
                    break
            else:
                box.moveCenter(path.pointAtPercent(0.5))
            taken.append(QRectF(box))
            placed.append((QRectF(box), label))
        return placed


class ArchitectureView(QWidget):
    """`show_record(record, step)` draws an architecture record; `clear()` shows what will appear here."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.record: dict | None = None
        self.step: int | None = None
        self.title = QLabel("Architecture")
        self.title.setObjectName("sectionTitle")
        self.caption = QLabel(EMPTY_TEXT)
        self.caption.setWordWrap(True)
        self.caption.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.cells = QWidget()
        self.cells_layout = QVBoxLayout(self.cells)
        self.cells_layout.setContentsMargins(0, 0, 0, 0)
        self.kinds: dict[str, tuple[QLabel, MixHeatMap, CellGraph]] = {}
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(self.cells)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.caption)
        layout.addWidget(scroll, 1)

    def clear(self) -> None:
        self.record, self.step = None, None
        self._rebuild(())
        self.title.setText("Architecture")
        self.caption.setText(EMPTY_TEXT)

    def show_record(self, record: dict, step: int | None = None) -> None:
        self.record, self.step = record, step
        kinds = kinds_used(record)
        if tuple(self.kinds) != kinds:
            self._rebuild(kinds)
        searching = any(read_cell(record, kind).mix is not None for kind in kinds)
        live = searching and step is not None
        title = f"Architecture at step {step:,}" if live else "Architecture" if searching else "Searched cell"
        self.title.setText(title)
        line = summary(record)
        kept = "each node's two strongest inputs, each with its strongest operation."
        lead = (f"The cell each kind would keep now: {kept}" if live else f"The cell the search found: {kept}"
                if searching else "The cell this network is built from.")
        self.caption.setText(lead + (f" ({line})" if line else ""))
        for kind in kinds:
            cell = read_cell(record, kind)
            _, heat_map, graph = self.kinds[kind]
            heat_map.set_cell(cell)
            heat_map.setVisible(cell.mix is not None)
            graph.set_cell(cell)

    def _rebuild(self, kinds: tuple[str, ...]) -> None:
        while self.cells_layout.count():
            item = self.cells_layout.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        self.kinds = {}
        for kind in kinds:
            cell = read_cell(self.record or {}, kind)
            title = QLabel(KIND_TITLES[kind])
            bold = title.font()
            bold.setBold(True)
            title.setFont(bold)
            heat_map, graph = MixHeatMap(cell), CellGraph(cell)
            row = QWidget()
            row_layout = QBoxLayout(QBoxLayout.Direction.LeftToRight, row)
            row_layout.setContentsMargins(0, 0, 0, 0)
            row_layout.addWidget(graph, 1)
            row_layout.addWidget(heat_map, 0, Qt.AlignmentFlag.AlignTop)
            self.cells_layout.addWidget(title)
            self.cells_layout.addWidget(row)
            self.kinds[kind] = (title, heat_map, graph)
        self.cells_layout.addStretch(1)
        self._fit_rows()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit_rows()

    def _fit_rows(self) -> None:
        """Graph beside heat map where both fit the width, the graph above it where they do not (a laptop)."""
        for _title, heat_map, graph in self.kinds.values():
            wide = self.width() >= heat_map.sizeHint().width() + graph.minimumWidth() + 40
            layout = graph.parentWidget().layout()
            layout.setDirection(QBoxLayout.Direction.LeftToRight if wide else QBoxLayout.Direction.TopToBottom)


def show_run_architecture(tabs: QTabWidget, view: ArchitectureView, run_dir: str | None,
                          title: str = "Architecture") -> None:
    """A tab of `tabs` showing the cell in `run_dir`'s architecture.json while that run has one (a search, or a
    run on a searched cell); a file that cannot be read says why in the tab. No file, or no run: no tab."""
    record, problem = load_record(run_dir) if run_dir else (None, "")
    index = tabs.indexOf(view)
    if record is None and not problem:
        if index >= 0:
            tabs.removeTab(index)
        view.clear()
        return
    if index < 0:
        tabs.addTab(view, title)
    if record is not None:
        view.show_record(record)
    else:
        view.clear()
        view.caption.setText(problem)
