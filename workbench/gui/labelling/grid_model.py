"""The image grid's data: one row per image of the session, with its label, source and prediction, and
whether the last adapt's audit doubts its label."""

from __future__ import annotations

import json

from PySide6.QtCore import QAbstractListModel, QMimeData, QModelIndex, QSortFilterProxyModel, Qt

from workbench.files import parse_json
from workbench.gui.labelling.thumbnails import ThumbnailCache
from workbench.labelling.session import LabelSession
from workbench.labelling.suspects import Suspect, is_current

MIME_TYPE = "application/x-workbench-image-paths"  # a JSON list of session-relative paths

PATH_ROLE = Qt.ItemDataRole.UserRole + 1
LABEL_ROLE = Qt.ItemDataRole.UserRole + 2  # class name of the label, or None
SOURCE_ROLE = Qt.ItemDataRole.UserRole + 3  # "human", "accepted prediction" or None
PREDICTED_ROLE = Qt.ItemDataRole.UserRole + 4  # predicted class name, or None
CONFIDENCE_ROLE = Qt.ItemDataRole.UserRole + 5  # prediction confidence 0..1, or None
CLASS_INDEX_ROLE = Qt.ItemDataRole.UserRole + 6  # index of the label's (else prediction's) class, or -1
BROKEN_ROLE = Qt.ItemDataRole.UserRole + 7  # why the image cannot be shown, or ""
SUSPECT_ROLE = Qt.ItemDataRole.UserRole + 8  # the Suspect when its label looks wrong (labelling/suspects.py), or None


def paths_from_mime(mime: QMimeData) -> list[str]:
    if not mime.hasFormat(MIME_TYPE):
        return []
    try:
        paths = parse_json(bytes(mime.data(MIME_TYPE)).decode("utf-8"))  # a drop may come from another program
    except (UnicodeDecodeError, json.JSONDecodeError):
        return []
    return [p for p in paths if isinstance(p, str)] if isinstance(paths, list) else []


class ImageGridModel(QAbstractListModel):
    """Rows are the session's images in folder order; reads the session, never changes it.

    The thumbnail is decoded lazily (only rows a view asks for) off the GUI thread.
    """

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.session: LabelSession | None = None
        self.suspects: dict[str, Suspect] = {}  # what the last adapt's audit doubted, by path
        self.thumbnails = ThumbnailCache(self)
        self.thumbnails.ready.connect(self._on_thumbnail)
        self.row_of: dict[str, int] = {}
        self.names_sorted = True  # the session's images are in name order (as a folder's are)

    def set_session(self, session: LabelSession | None) -> None:
        self.beginResetModel()
        self.thumbnails.reset()
        self.session = session
        self.suspects = {}
        self.row_of = {p: i for i, p in enumerate(session.images)} if session else {}
        self.names_sorted = session is None or all(a <= b for a, b in zip(session.images, session.images[1:]))
        self.endResetModel()

    def refresh(self) -> None:
        """Labels, classes or predictions changed: repaint every row and re-sort/filter."""
        if self.session and self.session.images:
            self.dataChanged.emit(self.index(0), self.index(len(self.session.images) - 1))

    def set_suspects(self, suspects: dict[str, Suspect]) -> None:
        """The labels the last adapt's audit doubts (replacing the previous ones); repaints."""
        self.suspects = dict(suspects)
        self.refresh()

    def suspect(self, path: str) -> Suspect | None:
        """The doubt about `path`'s label, while it still has the label the audit saw."""
        suspect = self.suspects.get(path)
        return suspect if suspect is not None and is_current(self.session, path, suspect) else None

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802 (Qt override)
        return 0 if parent.isValid() or self.session is None else len(self.session.images)

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        session = self.session
        if session is None or not index.isValid():
            return None
        path = session.images[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return path.rsplit("/", 1)[-1]
        if role == Qt.ItemDataRole.DecorationRole:
            return self.thumbnails.get(path, session.absolute(path))
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(path)
        if role == PATH_ROLE:
            return path
        label = session.labels.get(path)
        prediction = session.predictions.get(path)
        if role == LABEL_ROLE:
            return label.name if label else None
        if role == SOURCE_ROLE:
            return label.source if label else None
        if role == PREDICTED_ROLE:
            return prediction.name if prediction else None
        if role == CONFIDENCE_ROLE:
            return prediction.confidence if prediction else None
        if role == CLASS_INDEX_ROLE:
            name = label.name if label else prediction.name if prediction else None
            return session.classes.index(name) if name in session.classes else -1
        if role == BROKEN_ROLE:
            return self.thumbnails.failed.get(path, "")
        if role == SUSPECT_ROLE:
            return self.suspect(path)
        return None

    def _tooltip(self, path: str) -> str:
        session = self.session
        lines = [path]
        label, prediction = session.labels.get(path), session.predictions.get(path)
        if label:
            lines.append(f"Label: {label.name} ({label.source})")
        if prediction and not label:
            lines.append(f"Predicted: {prediction.name}, {prediction.confidence:.0%} confident")
        suspect = self.suspect(path)
        if suspect:
            key = session.classes.index(suspect.likely) + 1
            lines.append(f"⚠ This label looks wrong: adapted without it, the model puts this image in "
                         f"{suspect.likely} ({suspect.confidence:.0%} confident).")
            lines.append(f"Relabel as {suspect.likely}" + (f" with key {key}" if key <= 9 else "")
                         + ", or keep the label if it is right.")
        if path in self.thumbnails.failed:
            lines.append(f"Cannot be read: {self.thumbnails.failed[path]}")
        return "\n".join(lines)

    def flags(self, index: QModelIndex) -> Qt.ItemFlag:
        base = super().flags(index)
        return base | Qt.ItemFlag.ItemIsDragEnabled if index.isValid() else base

    def mimeTypes(self) -> list[str]:  # noqa: N802 (Qt override)
        return [MIME_TYPE]

    def mimeData(self, indexes) -> QMimeData:  # noqa: N802 (Qt override)
        paths = sorted({self.session.images[i.row()] for i in indexes if i.isValid()})
        mime = QMimeData()
        mime.setData(MIME_TYPE, json.dumps(paths).encode("utf-8"))
        mime.setText("\n".join(paths))
        return mime

    def supportedDragActions(self) -> Qt.DropAction:  # noqa: N802 (Qt override)
        return Qt.DropAction.CopyAction

    def _on_thumbnail(self, path: str) -> None:
        row = self.row_of.get(path)
        if row is not None:
            index = self.index(row)
            self.dataChanged.emit(index, index, [Qt.ItemDataRole.DecorationRole])


SORT_KEYS = ("name", "confidence", "class")
UNLABELLED, LABELLED, ALL = "\x00unlabelled", "\x00labelled", None
SUSPECTS = "\x00suspects"  # the labelled images whose label looks wrong


class GridFilterProxy(QSortFilterProxyModel):
    """Sorts by file name, confidence or class, and shows only images of one class and/or confidence range.

    `class_filter`: None (all), UNLABELLED, LABELLED, SUSPECTS or a class name (labelled or
    predicted as it). `confidence_mode`: 'any', 'at least' or 'below' the
    `threshold` (images without a prediction pass only 'any').
    """

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.class_filter: str | None = ALL
        self.confidence_mode = "any"
        self.threshold = 0.9
        self.sort_key = "name"
        self.setDynamicSortFilter(True)

    def set_filter(self, class_filter: str | None = ALL, confidence_mode: str = "any", threshold: float | None = None) -> None:
        self.beginFilterChange()
        self.class_filter, self.confidence_mode = class_filter, confidence_mode
        if threshold is not None:
            self.threshold = threshold
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def set_sort(self, key: str, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self.sort_key = key
        self.invalidate()
        if key == "name" and order == Qt.SortOrder.AscendingOrder and self.sourceModel().names_sorted:
            self.sort(-1)  # the rows are in name order already: no comparisons needed
        else:
            self.sort(0, order)

    # Filtering and sorting read the session directly: going through QModelIndex.data() for each of the
    # n log n comparisons cost 0.2 s of frozen window when a 1,000-image folder opened.
    def filterAcceptsRow(self, row: int, parent: QModelIndex) -> bool:  # noqa: N802 (Qt override)
        session = self.sourceModel().session
        if session is None:
            return False
        path = session.images[row]
        label, prediction = session.labels.get(path), session.predictions.get(path)
        label = label.name if label else None
        predicted = prediction.name if prediction else None
        wanted = self.class_filter
        if wanted == UNLABELLED and label is not None or wanted == LABELLED and label is None:
            return False
        if wanted == SUSPECTS and self.sourceModel().suspect(path) is None:
            return False
        if wanted not in (ALL, UNLABELLED, LABELLED, SUSPECTS) and (label or predicted) != wanted:
            return False
        if self.confidence_mode == "any":
            return True
        if label is not None or prediction is None:
            return False  # the range is about predictions of unlabelled images
        confidence = prediction.confidence
        return confidence >= self.threshold if self.confidence_mode == "at least" else confidence < self.threshold

    def lessThan(self, left: QModelIndex, right: QModelIndex) -> bool:  # noqa: N802 (Qt override)
        session = self.sourceModel().session
        return self._key(session, left.row()) < self._key(session, right.row())

    def _key(self, session: LabelSession, row: int):
        name = session.images[row]
        if self.sort_key == "confidence":
            # Least confident predictions first, then confident ones, then labelled, then not predicted.
            prediction = session.predictions.get(name)
            rank = 2.0 if name in session.labels else (3.0 if prediction is None else prediction.confidence)
            return (rank, name)
        if self.sort_key == "class":
            label, prediction = session.labels.get(name), session.predictions.get(name)
            cls = label.name if label else prediction.name if prediction else None
            return (session.classes.index(cls) if cls in session.classes else 10**6, name)
        return (name,)
