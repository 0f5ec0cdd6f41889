"""Tools -> Export: a person picks a run, a labelled folder and a file, and gets the model adapt would use."""

import json

import pytest
from PIL import Image

from tests.gui.dialogs import answer_next_dialog, choose
from workbench.data.splits import SplitSpec
from workbench.runs.config import RunConfig
from workbench.training.runner import run_to_end, train_run

pytestmark = pytest.mark.gui


def answer_in_turn(*answers) -> list:
    """Answer the next len(answers) modal dialogs, one after the other, as a person does."""
    answered: list = []

    def step(i):
        def answer(dialog):
            answered.append(dialog)
            if i + 1 < len(answers):
                answer_next_dialog(step(i + 1))
            answers[i](dialog)
        return answer

    answer_next_dialog(step(0))
    return answered


def test_tools_export_saves_the_adapted_classifier_and_says_what_it_predicts_with(window, qtbot, glyphs, tmp_path):
    run = tmp_path / "runs" / "proto"
    config = RunConfig(data=[str(glyphs)], algorithm="protonet", ways=3, shots=1, queries=2, steps=3, val_every=3,
                       val_episodes=2, checkpoint_every=3, device="cpu", precision="fp32",
                       split=SplitSpec("group", val_fraction=0.25, test_groups=("group_1",)))
    assert run_to_end(train_run(config, run)).status == "completed"
    support = tmp_path / "labelled"
    for name, cls in (("ring", "class_00"), ("bar", "class_01")):
        (support / name).mkdir(parents=True)
        for i in (0, 1):
            Image.open(glyphs / "group_1" / cls / f"img_0{i}.png").save(support / name / f"{i}.png")
    out = tmp_path / "glyphs.pt"

    menus = {a.text().replace("&", ""): a.menu() for a in window.menuBar().actions()}
    export = next(a for a in menus["Tools"].actions() if a.text().startswith("&Export"))
    answered = answer_in_turn(choose(run), choose(support), choose(out))
    export.trigger()
    assert len(answered) == 3, "the export did not ask for a run, a labelled folder and a file in turn"
    qtbot.waitUntil(lambda: out.exists() and "Exported 2 classes" in window.banner.text, timeout=120_000)
    assert "It predicts with" in window.banner.text
    assert json.loads((tmp_path / "glyphs.pt.classes.json").read_text())["classes"] == ["bar", "ring"]
