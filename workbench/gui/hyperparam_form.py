"""A form generated from an algorithm's declared hyperparameters, with no per-algorithm code."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QDoubleSpinBox, QFileDialog, QFormLayout, QHBoxLayout, QLabel, QLineEdit, QPushButton,
    QSpinBox, QToolButton, QVBoxLayout, QWidget,
)

from workbench.algorithms.backbone_settings import BACKBONE_ARCHITECTURE
from workbench.algorithms.hyperparam_labels import SHOWN_WHEN, is_advanced, label_of
from workbench.algorithms.hyperparams import HyperParam
from workbench.gui.architecture_picker import ArchitectureEditor
from workbench.gui.error_label import error_label
from workbench.gui.spin_boxes import CheckedSpinBox, ScientificSpinBox

INT_LIMIT = 2**31 - 1  # QSpinBox holds a C int


class PathEditor(QWidget):
    """A file path: typed in the line edit or picked with "Browse…"; empty means none.

    A path that names no file is flagged under the field at once (the run would
    refuse it with the same words when it starts).
    """

    changed = Signal()

    def __init__(self, param: HyperParam, parent=None) -> None:
        super().__init__(parent)
        self.param = param
        self.line = QLineEdit(str(param.default))
        self.line.setPlaceholderText("(none)")
        self.line.setClearButtonEnabled(True)
        self.browse_button = QPushButton("Browse…")
        self.browse_button.setToolTip("Pick a file.")
        self.problem = error_label()
        self.dialog: QFileDialog | None = None
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.line, 1)
        row.addWidget(self.browse_button)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.addLayout(row)
        column.addWidget(self.problem)
        self.browse_button.clicked.connect(self.browse)
        self.line.textChanged.connect(self._on_text)

    def text(self) -> str:
        return self.line.text().strip()

    def set_text(self, text: str) -> None:
        self.line.setText(text)

    def browse(self) -> None:
        """Open a file dialog (window-modal, not blocking) starting beside the current file."""
        start = Path(self.text()).expanduser().parent if self.text() else Path.home()
        self.dialog = QFileDialog(self, f"Choose {label_of(self.param).lower()}", str(start))
        self.dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        self.dialog.fileSelected.connect(self.set_text)
        self.dialog.open()

    def _on_text(self, text: str) -> None:
        text = text.strip()
        missing = bool(text) and not Path(text).expanduser().is_file()
        self.problem.setText(f"No file at {text}." if missing else "")
        self.problem.setVisible(missing)
        self.changed.emit()


class HyperParamForm(QWidget):
    """One editor per HyperParam: spin box (int / float with its range), check box (bool), combo (choice)
    or a file field with a Browse button (path).

    Each setting is labelled in words (its code name and help are the tooltip); the basic ones are
    shown and the rest fold under "Advanced settings". A setting that means something only with
    another at one value (hyperparam_labels.SHOWN_WHEN) sits right under it, shown only then, and
    reads as its default otherwise. A value outside the declared range is refused with a message
    under the form. `values()` gives name -> value.
    """

    changed = Signal()

    def __init__(self, params: tuple[HyperParam, ...], parent=None) -> None:
        super().__init__(parent)
        self.params = tuple(params)
        self.editors: dict[str, QWidget] = {}
        self._rows: dict[str, QFormLayout] = {}  # the layout each setting's row is in
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        basic = QFormLayout()
        basic.setContentsMargins(0, 0, 0, 0)
        column.addLayout(basic)
        if not self.params:
            basic.addRow(QLabel("This algorithm has no settings."))
        advanced_params = [p for p in self.params if is_advanced(p, self.params)]
        self.advanced_button = QToolButton()
        self.advanced_button.setCheckable(True)
        self.advanced_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.advanced_button.setArrowType(Qt.ArrowType.RightArrow)
        self.advanced_button.setText(f"Advanced settings ({len(advanced_params)})")
        self.advanced_button.setAutoRaise(True)
        self.advanced = QWidget()
        advanced = QFormLayout(self.advanced)
        advanced.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.advanced_button)
        column.addWidget(self.advanced)
        self.advanced.hide()
        self.advanced_button.setVisible(bool(advanced_params))
        self.advanced_button.toggled.connect(self.show_advanced)
        # A refused value is said here, in words, instead of the field silently going back.
        self.problem = error_label()
        column.addWidget(self.problem)
        for param in _ordered(self.params):
            editor = _make_editor(param)
            tip = _tooltip(param)
            editor.setToolTip(tip)
            label = QLabel(label_of(param) + ":")
            label.setToolTip(tip)
            label.setBuddy(editor)
            layout = advanced if param in advanced_params else basic
            layout.addRow(label, editor)
            self._rows[param.name] = layout
            self.editors[param.name] = editor
            _connect_changed(editor, lambda *_: self._on_changed())
            if isinstance(editor, (ScientificSpinBox, CheckedSpinBox)):
                editor.refused.connect(lambda text, p=param, e=editor: self._refused(p, e, text))
        for name, (controller, _value) in SHOWN_WHEN.items():
            if name in self.editors and controller in self.editors:
                _connect_changed(self.editors[controller], lambda *_: self._show_dependents())
        self._show_dependents()

    def set_runs_root(self, root: str | Path) -> None:
        """Where the runs are whose found cells the architecture setting offers."""
        for editor in self.editors.values():
            if isinstance(editor, ArchitectureEditor):
                editor.set_runs_root(root)

    def _shown(self, name: str) -> bool:
        """Whether a setting applies: always, or (SHOWN_WHEN) while the setting it depends on has its value."""
        if name not in SHOWN_WHEN or SHOWN_WHEN[name][0] not in self.editors:
            return True
        controller, value = SHOWN_WHEN[name]
        param = next(p for p in self.params if p.name == controller)
        return _read(param, self.editors[controller]) == value

    def _show_dependents(self) -> None:
        for name in SHOWN_WHEN:
            if name in self.editors:
                self._rows[name].setRowVisible(self.editors[name], self._shown(name))

    def show_advanced(self, shown: bool) -> None:
        self.advanced.setVisible(shown)
        self.advanced_button.setArrowType(Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow)
        if self.advanced_button.isChecked() != shown:
            self.advanced_button.setChecked(shown)

    def _refused(self, param: HyperParam, editor: QWidget, text: str) -> None:
        low = "−∞" if param.minimum is None else f"{param.minimum:g}"
        high = "∞" if param.maximum is None else f"{param.maximum:g}"
        self.problem.setText(f"{label_of(param)}: {text} is outside the allowed range {low} to {high}, "
                             f"so it stays {editor.textFromValue(editor.value())}.")
        self.problem.show()

    def _on_changed(self) -> None:
        self.problem.hide()
        self.changed.emit()

    def values(self) -> dict[str, Any]:
        return {param.name: _read(param, self.editors[param.name]) if self._shown(param.name) else param.default
                for param in self.params}

    def set_values(self, values: dict[str, Any]) -> None:
        for param in self.params:
            if param.name in values:
                # A path is shown as given, flagged if it names no file, rather than refused here.
                value = str(values[param.name]) if param.kind == "path" else param.coerce(values[param.name])
                _write(param, self.editors[param.name], value)

    def reset(self) -> None:
        self.set_values({p.name: p.default for p in self.params})


def _tooltip(param: HyperParam) -> str:
    tip = param.help
    if param.kind in ("int", "float") and (param.minimum is not None or param.maximum is not None):
        low = "−∞" if param.minimum is None else f"{param.minimum:g}"
        high = "∞" if param.maximum is None else f"{param.maximum:g}"
        tip += f"\nRange: {low} to {high}. Default: {param.default}."
    else:
        tip += f"\nDefault: {param.default if param.default != '' else 'none'}."
    # The code name is what `main.py train --set NAME=VALUE` takes.
    return f"<b>{label_of(param)}</b> (<code>{param.name}</code>)<br>{tip.replace(chr(10), '<br>')}"


def _ordered(params: tuple[HyperParam, ...]) -> list[HyperParam]:
    """The params in their order, each SHOWN_WHEN one moved right under the setting it depends on."""
    names = {p.name for p in params}
    following = {SHOWN_WHEN[p.name][0]: p for p in params if p.name in SHOWN_WHEN and SHOWN_WHEN[p.name][0] in names}
    moved = {p.name for p in following.values()}
    ordered = []
    for param in params:
        if param.name not in moved:
            ordered.append(param)
            if param.name in following:
                ordered.append(following[param.name])
    return ordered


def _make_editor(param: HyperParam) -> QWidget:
    if param.kind == "bool":
        editor = QCheckBox()
        editor.setChecked(bool(param.default))
        return editor
    if param.kind == "choice":
        editor = QComboBox()
        editor.addItems(list(param.choices))
        editor.setCurrentText(str(param.default))
        return editor
    if param.kind == "path":
        # The found cell is picked from the runs that searched one (or any file).
        return ArchitectureEditor(param) if param.name == BACKBONE_ARCHITECTURE.name else PathEditor(param)
    if param.kind == "int":
        editor = CheckedSpinBox()
        editor.setRange(
            int(max(param.minimum, -INT_LIMIT)) if param.minimum is not None else -INT_LIMIT,
            int(min(param.maximum, INT_LIMIT)) if param.maximum is not None else INT_LIMIT,
        )
        editor.setValue(int(param.default))
        editor.setGroupSeparatorShown(True)
        editor.setKeyboardTracking(False)  # a value counts when typed in full, so a refusal keeps the last one
        return editor
    if param.kind == "float":
        low = float(param.minimum) if param.minimum is not None else -1e12
        high = float(param.maximum) if param.maximum is not None else 1e12
        if param.log_scale and low > 0:
            editor: QDoubleSpinBox = ScientificSpinBox(log_steps=True)
        else:
            editor = ScientificSpinBox(log_steps=False)
            editor.setSingleStep(_linear_step(param))
        editor.setRange(low, high)
        editor.setValue(float(param.default))
        editor.setKeyboardTracking(False)
        return editor
    # An unknown kind from a plugin: show it read-only rather than fail the whole form.
    label = QLabel(str(param.default))
    label.setEnabled(False)
    return label


def _linear_step(param: HyperParam) -> float:
    """The default's order of magnitude: 0.5 steps by 0.1, 3.0 by 1."""
    magnitude = abs(float(param.default)) or (float(param.maximum or 1) - float(param.minimum or 0))
    return 10.0 ** math.floor(math.log10(magnitude)) if magnitude > 0 else 0.1


def _connect_changed(editor: QWidget, slot) -> None:
    if isinstance(editor, QCheckBox):
        editor.toggled.connect(slot)
    elif isinstance(editor, QComboBox):
        editor.currentIndexChanged.connect(slot)
    elif isinstance(editor, (QSpinBox, QDoubleSpinBox)):
        editor.valueChanged.connect(slot)
    elif isinstance(editor, (PathEditor, ArchitectureEditor)):
        editor.changed.connect(slot)


def _read(param: HyperParam, editor: QWidget) -> Any:
    if isinstance(editor, QCheckBox):
        return editor.isChecked()
    if isinstance(editor, QComboBox):
        return editor.currentText()
    if isinstance(editor, QSpinBox):
        return int(editor.value())
    if isinstance(editor, QDoubleSpinBox):
        return float(editor.value())
    if isinstance(editor, (PathEditor, ArchitectureEditor)):
        return editor.text()
    return param.default


def _write(param: HyperParam, editor: QWidget, value: Any) -> None:
    if isinstance(editor, QCheckBox):
        editor.setChecked(bool(value))
    elif isinstance(editor, QComboBox):
        editor.setCurrentText(str(value))
    elif isinstance(editor, (QSpinBox, QDoubleSpinBox)):
        editor.setValue(value)
    elif isinstance(editor, (PathEditor, ArchitectureEditor)):
        editor.set_text(str(value))
