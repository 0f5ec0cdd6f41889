"""A form generated from an algorithm's declared hyperparameters, with no per-algorithm code."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QDoubleSpinBox, QFileDialog, QFormLayout, QHBoxLayout, QLabel, QLineEdit, QPushButton,
    QSpinBox, QVBoxLayout, QWidget,
)

from workbench.algorithms.hyperparams import HyperParam
from workbench.gui.spin_boxes import ScientificSpinBox

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
        self.problem = QLabel()
        self.problem.setObjectName("error")
        self.problem.setStyleSheet("color: #b3261e;")
        self.problem.setWordWrap(True)
        self.problem.hide()
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
        self.dialog = QFileDialog(self, f"Choose {self.param.name}", str(start))
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

    The editors only let values inside the declared range be entered, and the
    help text of each parameter is its tooltip. `values()` gives name -> value.
    """

    changed = Signal()

    def __init__(self, params: tuple[HyperParam, ...], parent=None) -> None:
        super().__init__(parent)
        self.params = tuple(params)
        self.editors: dict[str, QWidget] = {}
        layout = QFormLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        if not self.params:
            layout.addRow(QLabel("This algorithm has no settings."))
        for param in self.params:
            editor = _make_editor(param)
            tip = _tooltip(param)
            editor.setToolTip(tip)
            label = QLabel(_label(param.name))
            label.setToolTip(tip)
            label.setBuddy(editor)
            layout.addRow(label, editor)
            self.editors[param.name] = editor
            _connect_changed(editor, lambda *_: self.changed.emit())

    def values(self) -> dict[str, Any]:
        return {param.name: _read(param, self.editors[param.name]) for param in self.params}

    def set_values(self, values: dict[str, Any]) -> None:
        for param in self.params:
            if param.name in values:
                # A path is shown as given, flagged if it names no file, rather than refused here.
                value = str(values[param.name]) if param.kind == "path" else param.coerce(values[param.name])
                _write(param, self.editors[param.name], value)

    def reset(self) -> None:
        self.set_values({p.name: p.default for p in self.params})


def _label(name: str) -> str:
    # The declared name as is: it is also what `main.py train --set NAME=VALUE` takes.
    return name + ":"


def _tooltip(param: HyperParam) -> str:
    tip = param.help
    if param.kind in ("int", "float") and (param.minimum is not None or param.maximum is not None):
        low = "−∞" if param.minimum is None else f"{param.minimum:g}"
        high = "∞" if param.maximum is None else f"{param.maximum:g}"
        tip += f"\nRange: {low} to {high}. Default: {param.default}."
    else:
        tip += f"\nDefault: {param.default if param.default != '' else 'none'}."
    return f"<b>{param.name}</b><br>{tip.replace(chr(10), '<br>')}"


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
        return PathEditor(param)
    if param.kind == "int":
        editor = QSpinBox()
        editor.setRange(
            int(max(param.minimum, -INT_LIMIT)) if param.minimum is not None else -INT_LIMIT,
            int(min(param.maximum, INT_LIMIT)) if param.maximum is not None else INT_LIMIT,
        )
        editor.setValue(int(param.default))
        editor.setGroupSeparatorShown(True)
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
    elif isinstance(editor, PathEditor):
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
    if isinstance(editor, PathEditor):
        return editor.text()
    return param.default


def _write(param: HyperParam, editor: QWidget, value: Any) -> None:
    if isinstance(editor, QCheckBox):
        editor.setChecked(bool(value))
    elif isinstance(editor, QComboBox):
        editor.setCurrentText(str(value))
    elif isinstance(editor, (QSpinBox, QDoubleSpinBox)):
        editor.setValue(value)
    elif isinstance(editor, PathEditor):
        editor.set_text(str(value))
