"""The desktop GUI (PySide6 + pyqtgraph). The only package of the workbench that imports Qt.

`app.run_app(argv)` opens the main window; everything else here is one panel,
view or bridge with one job each.
"""
