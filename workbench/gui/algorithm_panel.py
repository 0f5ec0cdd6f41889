"""Choosing an algorithm from the registry and editing its hyperparameters."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from workbench import catalogue
from workbench.gui.hyperparam_form import HyperParamForm


class AlgorithmPanel(QWidget):
    """A combo of every registered algorithm (built-ins and plugins alike) and its settings form.

    Each algorithm keeps its own form, so switching away and back keeps the
    values the user typed.
    """

    algorithmChanged = Signal(str)

    def __init__(self, algorithms: dict[str, type] | None = None, parent=None) -> None:
        super().__init__(parent)
        self.algorithms = algorithms if algorithms is not None else catalogue.available()
        self.combo = QComboBox()
        self.combo.setToolTip("The few-shot learning method to train.")
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setObjectName("hint")
        self.forms = QStackedWidget()
        self._form_by_name: dict[str, HyperParamForm] = {}
        for name, cls in self.algorithms.items():
            self.combo.addItem(f"{cls.title} ({name})", name)
            form = HyperParamForm(cls.hyperparams)
            self._form_by_name[name] = form
            self.forms.addWidget(form)
        reset = QPushButton("Reset to defaults")
        reset.setToolTip("Put this algorithm's settings back to their defaults.")
        reset.clicked.connect(lambda: self.form.reset())
        reset_row = QHBoxLayout()
        reset_row.addStretch(1)
        reset_row.addWidget(reset)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.combo)
        layout.addWidget(self.summary)
        layout.addWidget(self.forms)
        layout.addLayout(reset_row)
        self.combo.currentIndexChanged.connect(self._on_index)
        if "protonet" in self._form_by_name:
            self.set_algorithm("protonet")
        self._on_index(self.combo.currentIndex())

    @property
    def name(self) -> str:
        return self.combo.currentData() or ""

    @property
    def form(self) -> HyperParamForm:
        return self._form_by_name[self.name]

    def forms_by_name(self) -> dict[str, HyperParamForm]:
        """Each algorithm's settings form, by the algorithm's name."""
        return dict(self._form_by_name)

    def set_algorithm(self, name: str) -> None:
        index = self.combo.findData(name)
        if index >= 0:
            self.combo.setCurrentIndex(index)

    def set_runs_root(self, root: str | Path) -> None:
        """The runs folder whose architecture searches the forms offer as found cells."""
        for form in self._form_by_name.values():
            form.set_runs_root(root)

    def hyperparams(self) -> dict[str, Any]:
        return self.form.values() if self.name else {}

    def _on_index(self, index: int) -> None:
        if index < 0:
            self.summary.setText("No algorithms are registered.")
            return
        name = self.combo.itemData(index)
        self.summary.setText(self.algorithms[name].summary)
        current = self._form_by_name[name]
        # A stacked widget is as tall as its tallest page; let only the shown form count.
        for form in self._form_by_name.values():
            policy = QSizePolicy.Policy.Preferred if form is current else QSizePolicy.Policy.Ignored
            form.setSizePolicy(policy, policy)
        self.forms.setCurrentWidget(current)
        self.forms.adjustSize()
        self.algorithmChanged.emit(name)
