"""The Tools menu reaches the plugins dialog and the export, as a user finds them."""

from workbench.gui.main_window import MainWindow


def test_tools_menu_lists_plugins_and_export(qtbot, tmp_path):
    window = MainWindow(runs_root=tmp_path)
    qtbot.addWidget(window)
    menus = {a.text().replace("&", ""): a.menu() for a in window.menuBar().actions()}
    items = [a.text().replace("&", "") for a in menus["Tools"].actions()]
    assert items == ["Export adapted classifier (ONNX / TorchScript)…", "Plugins…"]
