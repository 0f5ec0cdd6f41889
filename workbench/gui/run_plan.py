"""Before Start: the steps at the chosen algorithm's default, and how long the run should take.

The steps follow the algorithm (ProtoNet's updates are cheap and it trains 5,000 of them; MAML's
1,000) until the person sets a number of their own. The estimate comes from the earlier runs in the
runs folder (workbench/runs/duration_estimate.py) and is shown on the Training page.
"""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import QObject

from workbench.runs.duration_estimate import estimate_duration
from workbench.runs.store import RunStore


class RunPlan(QObject):
    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self._default_steps = window.protocol_panel.steps.value()  # the default the field shows now
        window.algorithm_panel.algorithmChanged.connect(self.follow_algorithm)
        for field in (window.protocol_panel.steps, window.protocol_panel.ways, window.protocol_panel.shots):
            field.valueChanged.connect(self.refresh)
        window.trainer.changed.connect(self.forget_measurements)
        self._per_step: dict[tuple, object] = {}  # (algorithm, ways, shots) -> estimate of one step; read once
        self.follow_algorithm(window.algorithm_panel.name)

    def forget_measurements(self) -> None:
        """A run started or ended (or the runs folder changed): read the measurements again."""
        self._per_step.clear()
        self.refresh()

    def algorithm_class(self, name: str) -> type | None:
        return self.window.algorithm_panel.algorithms.get(name)

    def follow_algorithm(self, name: str) -> None:
        """Steps at the new algorithm's default, unless the person changed them from the old one's."""
        cls = self.algorithm_class(name)
        steps = self.window.protocol_panel.steps
        new_default = int(getattr(cls, "default_steps", self._default_steps))
        if steps.value() == self._default_steps:
            steps.setValue(new_default)
        self._default_steps = new_default
        self.refresh()

    def refresh(self, *_args) -> None:
        window = self.window
        panel = window.training_panel
        if window.training_page.running:
            panel.set_estimate("")
            return
        name = window.algorithm_panel.name
        protocol = window.protocol_panel
        steps = protocol.steps.value()
        key = (name, protocol.ways.value(), protocol.shots.value())
        if key not in self._per_step:
            self._per_step[key] = estimate_duration(window.runs_root, name, 1, *key[1:],
                                                    runs=RunStore(window.runs_root).scan())
        one_step = self._per_step[key]
        estimate = None if one_step is None else replace(one_step, seconds=one_step.seconds * steps)
        cls = self.algorithm_class(name)
        title = getattr(cls, "title", name)
        if estimate is None:
            panel.set_estimate(f"Estimated duration of {steps:,} steps: not known yet — the first {title} run "
                               "on this machine measures it (the ETA appears once training starts).")
        else:
            panel.set_estimate(f"Estimated duration of {steps:,} steps: {estimate.describe()}.")
