"""The settings panels as views of the window's state (workbench/projects/state.py).

Each widget writes its value to its field of the state when a person changes it, and shows the
field's value when anything else changes it (Open project, New project). psygnal emits only when a
value really changes, so the echo of a write stops at once; `_quiet` keeps a panel's own
consequences (choosing "to use" clears the test share) from fighting a project being loaded.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QComboBox

from workbench.errors import WorkbenchError
from workbench.gui.algorithm_panel import AlgorithmPanel
from workbench.gui.auto_check_box import AutoCheckBox
from workbench.gui.protocol_panel import ProtocolPanel
from workbench.projects.state import AlgorithmChoice, TrainingSettings


def _set_combo(combo: QComboBox, value: Any) -> None:
    index = combo.findData(value)
    if index >= 0:
        combo.setCurrentIndex(index)


def _accessors(widget) -> tuple[Callable[[], Any], Callable[[Any], None], Any]:
    """(read, write, changed signal) of one settings widget."""
    if isinstance(widget, AutoCheckBox):
        return widget.value, widget.set_value, widget.stateChanged
    if isinstance(widget, QCheckBox):
        return widget.isChecked, lambda value: widget.setChecked(bool(value)), widget.toggled
    if isinstance(widget, QComboBox):
        return widget.currentData, (lambda value: _set_combo(widget, value)), widget.currentIndexChanged
    return widget.value, widget.setValue, widget.valueChanged


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "…"


class TrainingBinding:
    """ProtocolPanel <-> TrainingSettings, both ways; at first the state takes what the panel shows (the window's
    own defaults). The held-out groups follow the state even while the dataset's groups are not listed yet (a
    project opens before its data is scanned)."""

    def __init__(self, panel: ProtocolPanel, settings: TrainingSettings) -> None:
        self.panel, self.settings = panel, settings
        self.loading = False
        for name in TrainingSettings.__dataclass_fields__:
            if name == "test_groups":
                continue
            read, write, changed = _accessors(getattr(panel, name))
            changed.connect(lambda *_args, name=name, read=read: self._from_widget(name, read()))
            getattr(settings.events, name).connect(lambda value, *, write=write: self._to_widget(write, value))
            setattr(settings, name, read())
        settings.test_groups = tuple(panel.checked_groups())
        panel.groups.itemChanged.connect(lambda _item: self._from_widget("test_groups", tuple(panel.checked_groups())))
        settings.events.test_groups.connect(lambda _value: self.show_groups())
        panel.groupsListed.connect(self.show_groups)
        self.show_groups()

    def _from_widget(self, name: str, value: Any) -> None:
        if not self.loading:
            setattr(self.settings, name, value)

    def _to_widget(self, write: Callable[[Any], None], value: Any) -> None:
        with self._quiet():
            write(value)

    def show_groups(self) -> None:
        """Check exactly the state's held-out groups among those listed."""
        wanted = set(self.settings.test_groups)
        with self._quiet():
            for row in range(self.panel.groups.count()):
                item = self.panel.groups.item(row)
                checked = item.data(Qt.ItemDataRole.UserRole) in wanted
                item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)

    @contextmanager
    def _quiet(self):
        """While the state is shown, the widgets' echoes are not written back: a field set later in the same
        load (the test share after the purpose) must not be overwritten by an earlier one's side effect."""
        before, self.loading = self.loading, True
        try:
            yield
        finally:
            self.loading = before
        if not before:  # what showing changed besides (choosing "to use" clears the test share) is the state's too
            self.settings.test_percent = self.panel.test_percent.value()


class AlgorithmBinding:
    """AlgorithmPanel <-> AlgorithmChoice: the chosen algorithm, and each algorithm's form values."""

    def __init__(self, panel: AlgorithmPanel, choice: AlgorithmChoice) -> None:
        self.panel, self.choice = panel, choice
        self.loading = self.writing = False
        self.dropped: list[str] = []  # the values the forms refused when the state was last shown, one phrase each
        panel.algorithmChanged.connect(self._name_from_widget)
        for name, form in panel.forms_by_name().items():
            form.changed.connect(lambda name=name, form=form: self._settings_from_widget(name, form.values()))
        choice.events.name.connect(self._show_name)
        choice.events.settings.connect(self._show_settings)
        self.first_algorithm = panel.name  # what a new project starts with
        choice.name = panel.name

    def _name_from_widget(self, name: str) -> None:
        if not self.loading:
            self.choice.name = name

    def _settings_from_widget(self, name: str, values: dict) -> None:
        if self.loading:
            return
        self.writing = True  # the forms already show it: not shown again under the person's typing
        try:
            self.choice.settings = {**self.choice.settings, name: values}
        finally:
            self.writing = False

    def _show_name(self, name: str) -> None:
        if name and name != self.panel.name:
            self.panel.set_algorithm(name)
        elif not name:  # no choice (a new project): the one a new window starts with
            self.choice.name = self.first_algorithm

    def _show_settings(self, settings: dict) -> None:
        if self.writing:
            return
        self.loading = True
        self.dropped = []
        try:
            for name, form in self.panel.forms_by_name().items():
                form.reset()
                for key, value in settings.get(name, {}).items():
                    try:
                        form.set_values({key: value})
                    except (WorkbenchError, TypeError, ValueError, OverflowError):
                        # A value this version's form cannot take: the setting keeps its default, and is named.
                        self.dropped.append(f"{name}'s '{key}' ({_shown(value)})")
        finally:
            self.loading = False
