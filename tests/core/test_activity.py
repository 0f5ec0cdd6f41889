"""The window's activity is plain data with events: whoever changes it, every listener hears it, and the
actions follow from it without Qt."""

import pytest

from workbench.projects.actions import action_states
from workbench.projects.activity import IDLE, PAUSED, PREPARING, STOPPING, TRAINING, Activity, facts_of


def test_a_run_goes_through_its_phases_and_the_actions_follow():
    activity, heard = Activity(), []
    activity.events.run_phase.connect(lambda phase, *, heard=heard: heard.append(phase))
    assert not activity.running and action_states(facts_of(activity, classes=9)).start

    activity.set_run(PREPARING, "/runs/protonet-1")
    states = action_states(facts_of(activity, classes=9))
    assert activity.running and not states.start and not states.pause and states.stop and not states.settings

    activity.set_run(TRAINING, "/runs/protonet-1")
    assert action_states(facts_of(activity, classes=9)).pause
    activity.set_run(PAUSED, "/runs/protonet-1")
    assert action_states(facts_of(activity, classes=9)).pause_says_resume
    activity.set_run(STOPPING, "/runs/protonet-1")
    assert not action_states(facts_of(activity, classes=9)).stop  # saving its checkpoint: Stop was pressed

    activity.set_run(IDLE, "/runs/protonet-1")
    assert activity.run_dir == "" and action_states(facts_of(activity, classes=9)).settings
    assert heard == [PREPARING, TRAINING, PAUSED, STOPPING, IDLE]


def test_a_scan_a_download_and_an_evaluation_are_facts_too():
    activity = Activity(scanning=True, downloading=True, inspecting=True)
    facts = facts_of(activity, classes=0, blocker="Choose a dataset first.")
    assert facts.scanning and facts.downloading and facts.inspecting and not facts.running
    states = action_states(facts)
    assert states.start and not states.datasets_to_fetch and not states.evaluate


def test_an_unknown_phase_is_refused():
    with pytest.raises(ValueError, match="unknown run phase"):
        Activity().set_run("sleeping")
