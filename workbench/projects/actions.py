"""What the window's actions allow now, as a pure function of what is going on: no Qt, tested alone.

`update_actions` (gui/window_actions.py) gathers the facts from the window, asks `action_states`,
and only applies the answer to the QActions and widgets.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class WindowFacts:
    running: bool = False  # a run's thread is alive (decoding, training or stopping)
    training: bool = False  # its episodes run: pausing and stopping mean something
    paused: bool = False
    stopping: bool = False  # Stop was pressed; the run is saving its checkpoint
    scanning: bool = False  # a dataset is being read
    classes: int = 0  # classes the chosen data holds (0: no data yet)
    blocker: str | None = None  # why this data cannot train the chosen ways, in words
    downloading: bool = False  # a background job fetches or draws a dataset
    inspecting: bool = False  # an evaluation runs on the Inspect page


@dataclass(frozen=True)
class ActionStates:
    start: bool
    start_tip: str
    pause: bool
    pause_says_resume: bool
    stop: bool
    settings: bool  # the settings panel, and every action that changes the data, runs folder or project
    datasets_to_fetch: bool  # demo dataset, get Omniglot
    evaluate: bool


def action_states(facts: WindowFacts, start_keys: str = "Ctrl+R") -> ActionStates:
    """One class can never make an episode, so Start is off below two; with fewer classes than the ways the
    banner says why and Start stays on (the run then names the split that falls short). While a scan runs,
    Start waits for it. Settings describe the run in progress: editing them mid-run would mislead."""
    has_data = facts.classes >= 2
    return ActionStates(
        start=not facts.running and (has_data or facts.scanning),
        start_tip=f"Start training ({start_keys})" if has_data or facts.scanning
        else facts.blocker or "Choose a dataset first.",
        pause=facts.training,
        pause_says_resume=facts.paused,
        stop=facts.running and not facts.stopping,
        settings=not facts.running,
        datasets_to_fetch=not facts.running and not facts.downloading,
        evaluate=not facts.inspecting,
    )
