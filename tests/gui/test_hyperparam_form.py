"""The settings form a newcomer meets: words for labels, basic settings first, refusals said aloud."""

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

pytestmark = pytest.mark.gui


def visible_labels(form) -> list[str]:
    return [label.text() for label in form.findChildren(QLabel) if label.isVisible() and label.buddy() is not None]


def test_labels_are_words_with_the_code_name_in_the_tooltip(window):
    panel = window.algorithm_panel
    panel.set_algorithm("maml")
    labels = visible_labels(panel.form)
    assert "Meta learning rate:" in labels and "Inner steps:" in labels
    assert not any("_" in text for text in labels)
    assert "<code>meta_lr</code>" in panel.form.editors["meta_lr"].toolTip()


def test_a_long_form_shows_the_basic_settings_and_folds_the_rest(window, qtbot):
    panel = window.algorithm_panel
    panel.set_algorithm("leo")
    form = panel.form
    basic = visible_labels(form)
    assert 1 <= len(basic) <= 5, basic
    assert not form.editors["orthogonality_weight"].isVisible()
    # The searched cell sits under the backbone, shown only with backbone=searched: counted in neither.
    assert not form.editors["backbone_architecture"].isVisible()
    assert form.advanced_button.text() == f"Advanced settings ({len(form.params) - len(basic) - 1})"

    qtbot.mouseClick(form.advanced_button, Qt.MouseButton.LeftButton)
    assert form.editors["orthogonality_weight"].isVisible()
    assert "Orthogonality weight:" in visible_labels(form)
    qtbot.mouseClick(form.advanced_button, Qt.MouseButton.LeftButton)
    assert not form.editors["orthogonality_weight"].isVisible()


def test_a_short_form_has_no_advanced_section(window):
    panel = window.algorithm_panel
    panel.set_algorithm("example_cosine") if "example_cosine" in panel.algorithms else pytest.skip("no example plugin")
    assert not panel.form.advanced_button.isVisible()


@pytest.mark.parametrize("name, typed", [("lr", "5"), ("lr_decay_every", "99999999999")])
def test_an_out_of_range_value_is_refused_with_a_message(window, qtbot, name, typed):
    panel = window.algorithm_panel
    panel.set_algorithm("protonet")
    form = panel.form
    form.show_advanced(True)
    editor = form.editors[name]
    before = form.values()[name]
    editor.setFocus()
    editor.selectAll()
    qtbot.keyClicks(editor, typed)
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    assert form.values()[name] == before
    assert form.problem.isVisible()
    assert typed in form.problem.text() and "outside the allowed range" in form.problem.text()

    # The next good value clears the message.
    editor.selectAll()
    qtbot.keyClicks(editor, "2" if name == "lr_decay_every" else "0.01")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    assert not form.problem.isVisible()
    assert form.values()[name] != before
