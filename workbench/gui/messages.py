"""One message at a time: the window's banner (above the pages) and the banners of the pages that have their
own (Label, Runs) never show together, a newer message replaces the older one, and a message is about the
page it was said on, so it does not follow the person to another page or into another project."""

from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QTabWidget, QWidget

from workbench.gui.banner import MessageBanner


class PageMessages(QObject):
    """Keeps `window_banner` and each page's own banner (`page_banners`: page → its banner, each page one of
    `tabs`' pages) to one current message on the page shown; `clear_all` when the project changes."""

    def __init__(self, tabs: QTabWidget, window_banner: MessageBanner,
                 page_banners: dict[QWidget, MessageBanner]) -> None:
        super().__init__(tabs)
        self.tabs, self.window_banner = tabs, window_banner
        self.page_banners = dict(page_banners)
        self.page = tabs.currentWidget()
        window_banner.shown.connect(self._on_window_message)
        for page, banner in self.page_banners.items():
            banner.shown.connect(lambda page=page: self._on_page_message(page))
        tabs.currentChanged.connect(self._on_page_changed)

    def _on_window_message(self) -> None:
        banner = self.page_banners.get(self.tabs.currentWidget())
        if banner is not None:
            banner.clear()

    def _on_page_message(self, page: QWidget) -> None:
        if self.tabs.currentWidget() is page:
            self.window_banner.clear()

    def _on_page_changed(self, _index: int) -> None:
        left, self.page = self.page, self.tabs.currentWidget()
        if left is self.page:
            return
        self.window_banner.clear()
        banner = self.page_banners.get(left)
        if banner is not None:
            banner.clear()

    def clear_all(self) -> None:
        """A new or another project: nothing said about the one before stays on screen."""
        self.window_banner.clear()
        for banner in self.page_banners.values():
            banner.clear()
