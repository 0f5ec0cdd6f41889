"""One message at a time on each page: the window's banner (above the pages) and the Label page's own
banner never show together, a newer message replaces the older one, and a message is about the page
it was said on, so it does not follow the person to another page or into another project."""

from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QTabWidget, QWidget

from workbench.gui.banner import MessageBanner


class PageMessages(QObject):
    """Keeps `window_banner` and `label_banner` (the banner of `label_page`, one of `tabs`' pages) to
    one current message on the page shown; `clear_all` when the project changes."""

    def __init__(self, tabs: QTabWidget, window_banner: MessageBanner, label_page: QWidget,
                 label_banner: MessageBanner) -> None:
        super().__init__(tabs)
        self.tabs, self.window_banner = tabs, window_banner
        self.label_page, self.label_banner = label_page, label_banner
        self.page = tabs.currentWidget()
        window_banner.shown.connect(lambda: self._on_label_page() and label_banner.clear())
        label_banner.shown.connect(lambda: self._on_label_page() and window_banner.clear())
        tabs.currentChanged.connect(self._on_page_changed)

    def _on_label_page(self) -> bool:
        return self.tabs.currentWidget() is self.label_page

    def _on_page_changed(self, _index: int) -> None:
        left, self.page = self.page, self.tabs.currentWidget()
        if left is self.page:
            return
        self.window_banner.clear()
        if left is self.label_page:
            self.label_banner.clear()

    def clear_all(self) -> None:
        """A new or another project: nothing said about the one before stays on screen."""
        self.window_banner.clear()
        self.label_banner.clear()
