"""Every keyboard shortcut of the window, where it works, and the dialog that lists them.

A shortcut is found by walking the window's QActions and QShortcuts, so the list
cannot drift from what the keys really do. Keys a widget reads itself (the
labelling grid's 1-9 and 0) are named here once, with the page they work on. A window key that
does something else on one page (Ctrl+S saves the labelling session on the Label page) is listed
there with what it does, and the window-wide entry says which page it leaves out.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

EVERYWHERE = "Everywhere"
# Keys read by a widget's keyPressEvent, not by an action: (page, key, what it does).
WIDGET_KEYS = (
    ("Label", "1 … 9", "Label the selected images as class 1 … 9"),
    ("Label", "0, Backspace, Delete", "Clear the labels of the selected images"),
)
# The property naming the window action whose keys run this page action while its page is shown.
WINDOW_KEYS_PROPERTY = "runByWindowKeysOf"


def run_by_window_keys(action: QAction, window_action: QAction) -> None:
    """Say that `window_action`'s keys run `action` while `action`'s page is shown (the window's
    slot chooses by page), so the shortcuts list tells the truth on that page."""
    action.setProperty(WINDOW_KEYS_PROPERTY, window_action)


@dataclass(frozen=True)
class Shortcut:
    """One key sequence, what it does, and the page it works on (EVERYWHERE for the whole window)."""

    page: str
    keys: str
    text: str
    owner: QObject | None = None  # the QAction or QShortcut; None for widget keys
    # True for a page action run by the window's keys (one binding, chosen by page: never a clash).
    by_window: bool = False


def _page_of(obj: QObject, pages: dict[QWidget, str]) -> str:
    """The title of the page `obj` lives on, or EVERYWHERE when it is the window's own."""
    widget = obj.parent()
    while widget is not None:
        if widget in pages:
            return pages[widget]
        widget = widget.parent()
    return EVERYWHERE


def _key_texts(owner: QObject) -> list[str]:
    sequences = owner.shortcuts() if isinstance(owner, QAction) else [owner.key()]
    return [s.toString(QKeySequence.SequenceFormat.PortableText) for s in sequences if not s.isEmpty()]


def window_shortcuts(window, pages: list[tuple[str, QWidget]], widget_keys: bool = True) -> list[Shortcut]:
    """The shortcuts of `window` (actions and QShortcuts), each once per key, sorted by page then key."""
    by_widget = {page: title for title, page in pages}
    found: list[Shortcut] = []
    seen: set[int] = set()
    owners = [*window.findChildren(QAction), *window.findChildren(QShortcut)]
    for owner in owners:
        if id(owner) in seen:
            continue
        seen.add(id(owner))
        text = owner.text().replace("&", "") if isinstance(owner, QAction) else owner.whatsThis()
        for keys in _key_texts(owner):
            found.append(Shortcut(_page_of(owner, by_widget), keys, text, owner))
    found = _with_page_meanings(found, [o for o in owners if isinstance(o, QAction)], by_widget)
    if widget_keys:
        found.extend(Shortcut(page, keys, text) for page, keys, text in WIDGET_KEYS)
    order = [EVERYWHERE] + [title for title, _page in pages]
    return sorted(found, key=lambda s: (order.index(s.page) if s.page in order else len(order), s.keys, s.text))


def _with_page_meanings(found: list[Shortcut], actions: list[QAction], pages: dict[QWidget, str]) -> list[Shortcut]:
    """`found` plus each page action that a window key runs on its page (run_by_window_keys); the
    window key's own entry then names the pages where it does something else."""
    routed: list[Shortcut] = []
    for action in dict.fromkeys(actions):
        window_action = action.property(WINDOW_KEYS_PROPERTY)
        if isinstance(window_action, QAction):
            page = _page_of(action, pages)
            text = action.text().replace("&", "")
            routed.extend(Shortcut(page, keys, text, action, by_window=True) for keys in _key_texts(window_action))
    if not routed:
        return found
    elsewhere = {}
    for shortcut in routed:
        elsewhere.setdefault(shortcut.keys, []).append(shortcut.page)
    found = [Shortcut(s.page, s.keys, f"{s.text} (except on the {' and '.join(elsewhere[s.keys])} page)", s.owner)
             if s.page == EVERYWHERE and s.keys in elsewhere else s for s in found]
    return found + routed


def ambiguous_shortcuts(shortcuts: list[Shortcut]) -> list[tuple[Shortcut, Shortcut]]:
    """Pairs of different actions that the same keys would trigger at once: both window-wide, one
    window-wide and one on a page, or both on the same page. Qt then runs neither."""
    clashes = []
    for i, first in enumerate(shortcuts):
        for second in shortcuts[i + 1:]:
            if first.keys != second.keys or first.owner is None or first.owner is second.owner:
                continue
            if first.by_window or second.by_window:
                continue  # the window's slot runs one or the other by page
            if EVERYWHERE in (first.page, second.page) or first.page == second.page:
                clashes.append((first, second))
    return clashes


class ShortcutsDialog(QDialog):
    """Lists every shortcut, grouped by the page it works on, sorted by key."""

    def __init__(self, shortcuts: list[Shortcut], parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Keys", "Does"])
        self.tree.setRootIsDecorated(False)
        groups: dict[str, QTreeWidgetItem] = {}
        for shortcut in shortcuts:
            group = groups.get(shortcut.page)
            if group is None:
                title = shortcut.page if shortcut.page == EVERYWHERE else f"{shortcut.page} page"
                group = groups[shortcut.page] = QTreeWidgetItem(self.tree, [title])
                group.setFirstColumnSpanned(True)
                font = group.font(0)
                font.setBold(True)
                group.setFont(0, font)
            native = QKeySequence(shortcut.keys).toString(QKeySequence.SequenceFormat.NativeText) \
                if shortcut.owner is not None else shortcut.keys
            QTreeWidgetItem(group, [native, shortcut.text])
        self.tree.expandAll()
        self.tree.resizeColumnToContents(0)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tree)
        layout.addWidget(buttons)
        self.resize(520, 560)

    def rows(self) -> list[tuple[str, str, str]]:
        """(page heading, keys, text) as shown, top to bottom."""
        out = []
        for g in range(self.tree.topLevelItemCount()):
            group = self.tree.topLevelItem(g)
            out.extend((group.text(0), group.child(i).text(0), group.child(i).text(1)) for i in range(group.childCount()))
        return out

