"""The desktop GUI (PySide6 + pyqtgraph). The only package of the workbench that imports Qt.

`app.run_app(argv)` opens the main window; everything else here is one panel,
view or bridge with one job each.
"""

from workbench.gui import refcount_guard

# Before any Qt code runs: PySide6 6.12 on Python 3.11 drops references to None
# and True on every signal and repaint (see refcount_guard), which would abort the app.
refcount_guard.install()
