"""The adapted model on one episode: support images per class, and each query with its prediction."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QLabel, QScrollArea, QStyle, QToolTip, QVBoxLayout, QWidget

from workbench.gui.qt_images import cache_pixmap, placeholder_pixmap
from workbench.training.events import EpisodePredictions

TILE = 56
GAP = 6
QUERY_GAP = 14  # room for a caption like "✓ C 100%" under a query
CAPTION = 16
NAME_WIDTH = 170
NARROW_NAME_WIDTH = 110  # where the panel is narrow (a laptop), the names give way to the images
SECTION_GAP = 28
HEADER = 22
ROW = TILE + CAPTION + 14
RIGHT = QColor("#2e7d32")
WRONG = QColor("#c62828")


def badge(index: int) -> str:
    """A short name for class `index` in captions: A, B, … Z, then 27, 28, …"""
    return chr(ord("A") + index) if index < 26 else str(index + 1)


@dataclass(frozen=True)
class Tile:
    """One drawn image: where it is, its caption and tooltip, and (for queries) whether it was right."""

    rect: QRect
    pixmap: QPixmap
    caption: str
    tooltip: str
    correct: bool | None  # None for support images


class EpisodeCanvas(QWidget):
    """Paints an EpisodePredictions: a row per class with its name, its support images, then the
    queries of that class, each framed green (predicted right) or red (wrong) with the predicted
    class and the confidence under it."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.episode: EpisodePredictions | None = None
        self.support_tiles: list[Tile] = []
        self.query_tiles: list[Tile] = []
        self._size = QSize(400, 120)
        self._images = None
        self.available_width = 0  # 0: as wide as the episode needs
        self.name_width = NAME_WIDTH
        self.row_tops: list[int] = []
        self._query_x = NAME_WIDTH
        self.setMouseTracking(True)

    def set_episode(self, episode: EpisodePredictions, images) -> None:
        """Lay out `episode`, drawing its images from `images` (the run's cache tensor, or None)."""
        self.episode, self._images = episode, images
        self._lay_out()

    def set_available_width(self, width: int) -> None:
        """The width the canvas is seen at: queries wrap onto more lines rather than run off to the side."""
        if width != self.available_width:
            self.available_width = width
            if self.episode is not None:
                self._lay_out()

    def _lay_out(self) -> None:
        episode, images = self.episode, self._images
        self.support_tiles, self.query_tiles = [], []
        names = episode.class_names
        ways = len(names)
        pixmaps: dict[tuple[int, int], QPixmap] = {}

        def pixmap(row: int, label: int) -> QPixmap:
            turns = episode.class_turns[label] if label < len(episode.class_turns) else 0
            key = (row, turns)
            if key not in pixmaps:
                try:
                    pixmaps[key] = cache_pixmap(images, row, turns, TILE)
                except (IndexError, ValueError, TypeError):  # no cache (yet), or a row it lacks
                    pixmaps[key] = placeholder_pixmap(TILE, "#9e9e9e")
            return pixmaps[key]

        supports = [[r for r, y in zip(episode.support_rows, episode.support_labels) if y == c] for c in range(ways)]
        queries = [[(r, p, conf) for r, y, p, conf in zip(episode.query_rows, episode.query_labels,
                                                          episode.predicted, episode.confidence) if y == c]
                   for c in range(ways)]
        shots = max((len(s) for s in supports), default=0)
        most = max((len(q) for q in queries), default=0)
        wide = self.available_width <= 0 or self.available_width >= 700
        self.name_width = NAME_WIDTH if wide else NARROW_NAME_WIDTH
        query_x = self.name_width + shots * (TILE + GAP) + SECTION_GAP
        per_line = most if self.available_width <= 0 else max(1, (self.available_width - query_x) // (TILE + QUERY_GAP))
        per_line = max(1, min(per_line, most))
        width = query_x + per_line * (TILE + QUERY_GAP) + GAP
        self.row_tops, top = [], HEADER
        for c in range(ways):
            self.row_tops.append(top)
            for i, row in enumerate(supports[c]):
                rect = QRect(self.name_width + i * (TILE + GAP), top, TILE, TILE)
                tooltip = f"Support image of {badge(c)}: {names[c]}"
                self.support_tiles.append(Tile(rect, pixmap(row, c), "", tooltip, None))
            for i, (row, predicted, confidence) in enumerate(queries[c]):
                line, column = divmod(i, per_line)
                rect = QRect(query_x + column * (TILE + QUERY_GAP), top + line * ROW, TILE, TILE)
                right = predicted == c
                predicted_name = names[predicted] if 0 <= predicted < ways else "?"
                caption = f"{'✓' if right else '✗'} {badge(predicted)} {confidence:.0%}"
                tooltip = (f"Query of {badge(c)}: {names[c]}\nPredicted {badge(predicted)}: {predicted_name} "
                           f"with {confidence:.1%} confidence — {'right' if right else 'wrong'}")
                self.query_tiles.append(Tile(rect, pixmap(row, c), caption, tooltip, right))
            top += max(1, -(-len(queries[c]) // per_line)) * ROW
        self._query_x = query_x
        self._size = QSize(max(width, 300), top + GAP)
        self.setMinimumSize(self._size)
        self.updateGeometry()
        self.update()

    def clear(self) -> None:
        self.episode = None
        self.support_tiles, self.query_tiles = [], []
        self._size = QSize(400, 120)
        self.setMinimumSize(self._size)
        self.update()

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        return self._size

    def paintEvent(self, _event) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        if self.episode is None:
            painter.setPen(palette.placeholderText().color())
            # The part on screen (the canvas can be wider than its scroll area), wrapped to fit it.
            painter.drawText(self.visibleRegion().boundingRect().adjusted(8, 8, -8, -8),
                             Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                             "After each validation, the adapted model's predictions on a held-out "
                             "episode appear here.")
            painter.end()
            return
        bold = QFont(self.font())
        bold.setBold(True)
        painter.setFont(bold)
        painter.setPen(palette.text().color())
        painter.drawText(QRect(0, 0, self.name_width, HEADER), Qt.AlignmentFlag.AlignVCenter, "Class")
        support_header = QRect(self.name_width, 0, self._query_x - self.name_width, HEADER)
        painter.drawText(support_header, Qt.AlignmentFlag.AlignVCenter, "Support")
        room = max(40, self.width() - self._query_x - GAP)
        header = painter.fontMetrics().elidedText("Queries: predicted class, confidence", Qt.TextElideMode.ElideRight,
                                                  room)
        painter.drawText(QRect(self._query_x, 0, room, HEADER), Qt.AlignmentFlag.AlignVCenter, header)
        small = QFont(self.font())
        small.setPointSizeF(max(7.0, self.font().pointSizeF() * 0.9))
        for c, name in enumerate(self.episode.class_names):
            top = self.row_tops[c]
            painter.setFont(bold)
            painter.drawText(QRect(0, top, 22, TILE), Qt.AlignmentFlag.AlignVCenter, badge(c))
            painter.setFont(self.font())
            text = painter.fontMetrics().elidedText(name, Qt.TextElideMode.ElideLeft, self.name_width - 30)
            painter.drawText(QRect(24, top, self.name_width - 28, TILE), Qt.AlignmentFlag.AlignVCenter, text)
        for tile in self.support_tiles:
            painter.drawPixmap(tile.rect, tile.pixmap)
            painter.setPen(QPen(palette.mid().color(), 1))
            painter.drawRect(tile.rect.adjusted(0, 0, -1, -1))
        for tile in self.query_tiles:
            color = RIGHT if tile.correct else WRONG
            painter.drawPixmap(tile.rect, tile.pixmap)
            painter.setPen(QPen(color, 3))
            painter.drawRect(tile.rect.adjusted(1, 1, -2, -2))
            painter.setPen(color)
            painter.setFont(small)
            caption = QRect(tile.rect.left() - QUERY_GAP // 2, tile.rect.bottom() + 2, TILE + QUERY_GAP, CAPTION)
            painter.drawText(caption, Qt.AlignmentFlag.AlignCenter, tile.caption)
        painter.end()

    def event(self, event) -> bool:
        if event.type() == event.Type.ToolTip:
            tile = self.tile_at(event.pos())
            if tile is not None:
                QToolTip.showText(event.globalPos(), tile.tooltip, self)
            else:
                QToolTip.hideText()
                event.ignore()
            return True
        return super().event(event)

    def tile_at(self, pos) -> Tile | None:
        return next((t for t in self.support_tiles + self.query_tiles if t.rect.contains(pos)), None)


class PredictionsView(QWidget):
    """The latest adapted predictions, with a one-line summary above the scrollable episode."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.title = QLabel("Adapted predictions")
        self.title.setObjectName("sectionTitle")
        self.title.setWordWrap(True)
        self.canvas = EpisodeCanvas()
        self.scroll = scroll = QScrollArea()
        scroll.setWidget(self.canvas)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(scroll, 1)
        self.images = None

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        # The width less a scroll bar's, so that a bar appearing never changes how many queries a line holds.
        bar = self.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
        self.canvas.set_available_width(event.size().width() - bar)  # the scroll area has no frame or margin

    def set_images(self, images) -> None:
        """The cache tensor (M, C, S, S) that episode rows index into."""
        self.images = images

    def show_predictions(self, episode: EpisodePredictions) -> None:
        self.canvas.set_episode(episode, self.images)
        right = sum(p == t for p, t in zip(episode.predicted, episode.query_labels))
        total = len(episode.predicted)
        shots = len(episode.support_rows) // max(1, len(episode.class_names))
        self.title.setText(
            f"Adapted predictions at step {episode.step:,}: {len(episode.class_names)}-way {shots}-shot "
            f"episode, <b>{right} of {total}</b> queries right ({episode.accuracy:.0%}). "
            f"<span style='color:{RIGHT.name()}'>■ right</span> "
            f"<span style='color:{WRONG.name()}'>■ wrong</span>"
        )

    def clear(self) -> None:
        self.canvas.clear()
        self.title.setText("Adapted predictions")
