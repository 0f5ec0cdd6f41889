"""The Plugins dialog on its own: what is loaded, what failed and why, and the user's plugin folders."""

import json
import textwrap

import pytest

from workbench.catalogue import plugins
from workbench import catalogue
from workbench.algorithms import registry
from workbench.catalogue.plugin_settings import PluginSettings

pytestmark = pytest.mark.gui

PLUGIN = textwrap.dedent("""
    from workbench.algorithms.protonet import ProtoNet
    from workbench.algorithms.registry import register

    @register
    class DialogProtoNet(ProtoNet):
        name = "dialog_protonet"
        title = "Dialog ProtoNet"
        summary = "Loaded when its folder is added in the dialog."
""")


@pytest.fixture
def fresh_settings(tmp_path, monkeypatch):
    """Plugin settings in a temporary config folder, read anew; the plugin it adds is unregistered after."""
    monkeypatch.setenv("WORKBENCH_CONFIG_DIR", str(tmp_path / "config"))
    PluginSettings(project_folder=True).save(tmp_path / "config" / "plugins.json")  # the examples switched on
    plugins.use_settings(PluginSettings.load(), save=False)
    yield tmp_path / "config" / "plugins.json"
    registry.unregister("dialog_protonet")
    plugins.use_settings(PluginSettings.load(), save=False)


def test_dialog_lists_plugins_and_adds_a_folder_that_loads_at_once(qtbot, tmp_path, fresh_settings):
    from workbench.gui.plugins_dialog import PluginsDialog

    catalogue.available()  # the app has loaded its plugins by the time the dialog opens
    dialog = PluginsDialog()
    qtbot.addWidget(dialog)
    dialog.show()
    rows = {row[0]: row for row in dialog.row_texts()}
    assert rows["cosine_prototypes"][1:4] == ("loaded", "example_cosine", "project folder")
    assert dialog.enabled_box.isChecked() and dialog.project_box.isChecked()
    assert dialog.project_box.text().startswith("Example plugins")

    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "dialog_plugin.py").write_text(PLUGIN)
    (folder / "dialog_broken.py").write_text("import no_such_module_anywhere\n")
    with qtbot.waitSignal(dialog.plugins_changed, timeout=5000):
        dialog.add_folder(str(folder))
    rows = {row[0]: row for row in dialog.row_texts()}
    assert rows["dialog_plugin"][1:4] == ("loaded", "dialog_protonet", "user folder")
    assert rows["dialog_broken"][1] == "failed"
    assert "No module named 'no_such_module_anywhere'" in dialog.error_label.text()
    assert "dialog_protonet" in catalogue.available()
    assert [dialog.folder_list.item(i).text() for i in range(dialog.folder_list.count())] == [str(folder.resolve())]
    assert json.loads(fresh_settings.read_text())["folders"] == [str(folder.resolve())]

    dialog.folder_list.setCurrentRow(0)
    dialog.remove_button.click()
    assert dialog.folder_list.count() == 0
    assert json.loads(fresh_settings.read_text())["folders"] == []
    dialog.enabled_box.click()  # switching plugins off is saved for the next start
    assert json.loads(fresh_settings.read_text())["enabled"] is False
    assert "next starts" in dialog.note.text()
