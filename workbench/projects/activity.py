"""What the window is busy with now, as a plain evented object: the run in progress and its phase, a dataset
scan, a download, an evaluation. Not part of a project (never saved); the window's controllers write it
and every view that depends on it (the actions, the run controls) listens to its events instead of asking
widgets. `facts_of` turns it, with what the chosen data allows, into `WindowFacts` for `action_states`.
"""

from __future__ import annotations

from dataclasses import dataclass

from psygnal import evented

from workbench.projects.actions import WindowFacts

IDLE, PREPARING, TRAINING, PAUSED, STOPPING = "idle", "preparing", "training", "paused", "stopping"
RUN_PHASES = (IDLE, PREPARING, TRAINING, PAUSED, STOPPING)


@evented
@dataclass
class Activity:
    """The window's jobs now. `run_phase`: idle, preparing (its thread decodes the data), training (episodes
    run), paused, or stopping (Stop was pressed; the checkpoint is being saved). `run_dir`: the folder of the
    run in progress, '' when none."""

    run_phase: str = IDLE
    run_dir: str = ""
    scanning: bool = False  # a dataset is being read
    downloading: bool = False  # a background job fetches or draws a dataset
    inspecting: bool = False  # an evaluation runs on the Inspect page

    @property
    def running(self) -> bool:
        return self.run_phase != IDLE

    def set_run(self, phase: str, run_dir: str = "") -> None:
        """The run's phase (one of RUN_PHASES) and folder; idle forgets the folder."""
        if phase not in RUN_PHASES:
            raise ValueError(f"unknown run phase {phase!r}")
        self.run_dir = "" if phase == IDLE else run_dir
        self.run_phase = phase


def facts_of(activity: Activity, classes: int = 0, blocker: str | None = None) -> WindowFacts:
    """What `action_states` needs: the activity, the number of classes the chosen data holds, and why that data
    cannot train the chosen ways (None when it can)."""
    phase = activity.run_phase
    return WindowFacts(running=activity.running, training=phase in (TRAINING, PAUSED), paused=phase == PAUSED,
                       stopping=phase == STOPPING, scanning=activity.scanning, classes=classes, blocker=blocker,
                       downloading=activity.downloading, inspecting=activity.inspecting)
