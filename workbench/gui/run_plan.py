"""Before Start: the steps at the chosen algorithm's default, and how long the run should take.

The steps follow the algorithm (ProtoNet's updates are cheap and it trains 5,000 of them; MAML's
1,000) until the person sets a number of their own. The estimate comes from the earlier runs in the
runs folder (workbench/runs/duration_estimate.py) and is shown on the Training page.

It knows the algorithm and protocol panels, the Training page (is a run under way) and its training
panel (where the estimate is shown), the signal that a run started or ended, and the runs folder now
(a callable); nothing else of the window.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QObject, SignalInstance

from workbench.gui.algorithm_panel import AlgorithmPanel
from workbench.gui.protocol_panel import ProtocolPanel
from workbench.gui.training_page import TrainingPage
from workbench.gui.training_panel import TrainingPanel
from workbench.runs.duration_estimate import estimate_duration
from workbench.runs.store import RunStore


class RunPlan(QObject):
    """Keeps `protocol_panel`'s steps at `algorithm_panel`'s algorithm's default and shows the estimated
    duration on `training_panel`; `run_changed` (a run started or ended) reads the measurements again,
    from the runs folder `runs_root()` names now."""

    def __init__(self, *, algorithm_panel: AlgorithmPanel, protocol_panel: ProtocolPanel,
                 training_page: TrainingPage, training_panel: TrainingPanel, run_changed: SignalInstance,
                 runs_root: Callable[[], Path], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.algorithm_panel, self.protocol_panel = algorithm_panel, protocol_panel
        self.training_page, self.training_panel = training_page, training_panel
        self.runs_root = runs_root
        self._default_steps = protocol_panel.steps.value()  # the default the field shows now
        algorithm_panel.algorithmChanged.connect(self.follow_algorithm)
        for field in (protocol_panel.steps, protocol_panel.ways, protocol_panel.shots):
            field.valueChanged.connect(self.refresh)
        run_changed.connect(self.forget_measurements)
        self._per_step: dict[tuple, object] = {}  # (algorithm, ways, shots) -> estimate of one step; read once
        self.follow_algorithm(algorithm_panel.name)

    def forget_measurements(self) -> None:
        """A run started or ended (or the runs folder changed): read the measurements again."""
        self._per_step.clear()
        self.refresh()

    def algorithm_class(self, name: str) -> type | None:
        return self.algorithm_panel.algorithms.get(name)

    def follow_algorithm(self, name: str) -> None:
        """Steps at the new algorithm's default, unless the person changed them from the old one's."""
        cls = self.algorithm_class(name)
        steps = self.protocol_panel.steps
        new_default = int(getattr(cls, "default_steps", self._default_steps))
        if steps.value() == self._default_steps:
            steps.setValue(new_default)
        self._default_steps = new_default
        self.refresh()

    def refresh(self, *_args) -> None:
        panel = self.training_panel
        if self.training_page.running:
            panel.set_estimate("")
            return
        name = self.algorithm_panel.name
        protocol = self.protocol_panel
        steps = protocol.steps.value()
        key = (name, protocol.ways.value(), protocol.shots.value())
        if key not in self._per_step:
            runs_root = self.runs_root()
            self._per_step[key] = estimate_duration(runs_root, name, 1, *key[1:], runs=RunStore(runs_root).scan())
        one_step = self._per_step[key]
        estimate = None if one_step is None else replace(one_step, seconds=one_step.seconds * steps)
        cls = self.algorithm_class(name)
        title = getattr(cls, "title", name)
        if estimate is None:
            panel.set_estimate(f"Estimated duration of {steps:,} steps: not known yet — the first {title} run "
                               "on this machine measures it (the ETA appears once training starts).")
        else:
            panel.set_estimate(f"Estimated duration of {steps:,} steps: {estimate.describe()}.")
