"""What the window lets a person do, decided without Qt from what is going on."""

import pytest

from workbench.projects.actions import WindowFacts, action_states


def test_nothing_to_train_before_a_dataset():
    states = action_states(WindowFacts())
    assert not states.start and states.start_tip == "Choose a dataset first."
    assert states.settings and states.datasets_to_fetch and states.evaluate
    assert not states.pause and not states.stop


def test_start_waits_for_a_scan_and_one_class_says_why_not():
    assert action_states(WindowFacts(scanning=True)).start
    one = action_states(WindowFacts(classes=1, blocker="This folder holds its 12 images directly, so it is one class"))
    assert not one.start and one.start_tip.startswith("This folder holds")
    few = action_states(WindowFacts(classes=3, blocker="needs 5"), start_keys="Ctrl+R")
    assert few.start and few.start_tip == "Start training (Ctrl+R)"  # the run names the split that falls short


@pytest.mark.parametrize("facts, start, pause, resume, stop, settings", [
    (WindowFacts(running=True, classes=9), False, False, False, True, False),  # decoding the data
    (WindowFacts(running=True, training=True, classes=9), False, True, False, True, False),
    (WindowFacts(running=True, training=True, paused=True, classes=9), False, True, True, True, False),
    (WindowFacts(running=True, stopping=True, classes=9), False, False, False, False, False),  # saving, then done
    (WindowFacts(classes=9), True, False, False, False, True),
])
def test_a_run_in_progress_locks_its_settings(facts, start, pause, resume, stop, settings):
    states = action_states(facts)
    assert (states.start, states.pause, states.pause_says_resume, states.stop, states.settings) == (
        start, pause, resume, stop, settings)
    assert states.datasets_to_fetch == settings


def test_a_download_or_an_evaluation_holds_only_its_own_actions():
    downloading = action_states(WindowFacts(classes=9, downloading=True))
    assert not downloading.datasets_to_fetch and downloading.start and downloading.settings
    assert not action_states(WindowFacts(classes=9, inspecting=True)).evaluate
