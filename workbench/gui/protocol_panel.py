"""The episode protocol, data split and training budget of a run, as form fields."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGridLayout,
    QGroupBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from workbench.data.splits import SplitSpec
from workbench.gui.auto_check_box import AutoCheckBox
from workbench.runs.group_episodes import DEFAULT_GROUP_EPISODES
from workbench.runs.image_size import DEFAULT_IMAGE_SIZE


def _grid(rows: list[list[tuple[str, QWidget]]]) -> QGridLayout:
    """Fields in columns with their labels above them: compact enough for a side panel."""
    grid = QGridLayout()
    grid.setHorizontalSpacing(8)
    grid.setVerticalSpacing(2)
    for r, row in enumerate(rows):
        for column, (text, widget) in enumerate(row):
            label = QLabel(text)
            label.setToolTip(widget.toolTip())
            label.setBuddy(widget)
            grid.addWidget(label, 2 * r, column)
            grid.addWidget(widget, 2 * r + 1, column)
            grid.setColumnStretch(column, 1)
        if r + 1 < len(rows):
            grid.setRowMinimumHeight(2 * r + 2, 0)
    return grid


def _spin(low: int, high: int, value: int, tip: str, suffix: str = "") -> QSpinBox:
    box = QSpinBox()
    box.setRange(low, high)
    box.setValue(value)
    box.setToolTip(tip)
    box.setGroupSeparatorShown(True)
    if suffix:
        box.setSuffix(suffix)
    return box


class ProtocolPanel(QWidget):
    """N-way K-shot Q-query episodes, image format, split (by class or by held-out group) and budget.

    `config_kwargs()` returns the matching RunConfig fields; RunConfig itself
    checks them, so this panel only keeps values in their obvious ranges. `groupsListed` fires when the
    dataset's groups are listed anew (the held-out ones are checked by whoever keeps them).
    """

    groupsListed = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._episode_box())
        layout.addWidget(self._split_box())
        layout.addWidget(self._budget_box())

    # --- building ------------------------------------------------------------
    def _episode_box(self) -> QGroupBox:
        box = QGroupBox("Episodes")
        self.ways = _spin(2, 200, 5, "N: classes per episode (ways).")
        self.shots = _spin(1, 100, 1, "K: labelled support images per class (shots).")
        self.queries = _spin(1, 200, 15, "Q: query images per class that the adapted model must label.")
        self.train_ways = _spin(0, 200, 0, "Ways of training episodes; 'auto' lets the algorithm choose "
                                "(Prototypical Networks train 30-way, the others with N ways).")
        self.train_ways.setSpecialValueText("auto")
        self.image_size = _spin(16, 512, DEFAULT_IMAGE_SIZE, "Images are resized to this many pixels square.", " px")
        self.channels = QComboBox()
        self.channels.addItem("Gray", 1)
        self.channels.addItem("RGB", 3)
        self.channels.setToolTip("Colour channels the model sees: 1 (grayscale) or 3 (RGB). "
                                 "Colour images are converted to gray with 1.")
        self.rotations = AutoCheckBox("Rotations as new classes (×4)",
                                      "Each training class also appears turned by 90°, 180° and 270°, as four "
                                      "distinct classes (the usual Omniglot augmentation). Auto: on for drawings.")
        self.mirror = AutoCheckBox("Mirror images as new classes (×2)",
                                   "Each training class (and each of its rotations) also appears mirrored left-right, "
                                   "as a distinct class: more classes to learn from when there are few. "
                                   "Auto: on for drawings.")
        self.invert = AutoCheckBox("Invert pixels (dark strokes on light paper)",
                                   "The model sees 1 − x, so a white background becomes 0 like the zero padding of its "
                                   "convolutions (Omniglot, scans, handwriting). Images are still shown as they are. "
                                   "Saved with the run: evaluating, adapting, labelling and exporting invert too. "
                                   "Auto: on for dark strokes on light paper.")
        self.augment = QCheckBox("Distort training images a little")
        self.augment.setChecked(True)
        self.augment.setToolTip("Each training image gets its own small random shift, rotation, scale and shear, "
                                "so the model learns features that survive handwriting-like variation. "
                                "Validation and test images are never distorted.")
        self.group_share = _spin(0, 100, round(DEFAULT_GROUP_EPISODES * 100),
                                 "Share of training episodes whose classes all come from one group (the folder "
                                 "above the classes: an Omniglot alphabet, one kind of image). Such episodes "
                                 "teach the fine distinctions between look-alike classes that a folder of one "
                                 "kind of image asks for. Groups with fewer classes than the train ways are "
                                 "skipped; data without groups trains as before.", " %")
        self.group_share.setSingleStep(10)
        self.group_share.setSpecialValueText("off")
        inner = QVBoxLayout(box)
        inner.addLayout(_grid([
            [("N ways", self.ways), ("K shots", self.shots), ("Q queries", self.queries)],
            [("Train ways", self.train_ways), ("Image size", self.image_size), ("Channels", self.channels)],
            [("From one group", self.group_share)],
        ]))
        inner.addWidget(self.rotations)
        inner.addWidget(self.mirror)
        inner.addWidget(self.invert)
        inner.addWidget(self.augment)
        return box

    def _split_box(self) -> QGroupBox:
        box = QGroupBox("Split")
        # What the run is for decides whether classes are held back: a model to use learns from every
        # class (a held-back class would be one it never learnt); a measurement needs unseen classes.
        self.purpose = QComboBox()
        self.purpose.addItem("Train a model to use", "use")
        self.purpose.addItem("Measure on held-out classes", "measure")
        self.purpose.setToolTip("To use: every class except the validation share trains the model, and "
                                "there is no test score. To measure: the test share of classes (or the "
                                "checked groups) never trains, and Evaluate scores the model on them.")
        self._measure_test_percent = 20
        self.split_mode = QComboBox()
        self.split_mode.addItem("By class (random classes)", "class")
        self.split_mode.addItem("By group (hold out whole groups)", "group")
        self.split_mode.setToolTip("By group keeps every class of a held-out group (an Omniglot alphabet) "
                                   "out of training.")
        self.val_percent = _spin(0, 90, 10, "Share of classes used for validation.", " %")
        self.test_percent = _spin(0, 90, 0, "Share of classes (or of groups, by group) held out for test.", " %")
        self.groups = QListWidget()
        self.groups.setToolTip("Check the groups to hold out for test. None checked: the test share of "
                               "groups is drawn at random.")
        self.groups.setMaximumHeight(120)
        self.groups_hint = QLabel()
        self.groups_hint.setObjectName("hint")
        self.groups_hint.setWordWrap(True)
        inner = QVBoxLayout(box)
        inner.addWidget(self.purpose)
        inner.addWidget(self.split_mode)
        inner.addLayout(_grid([[("Validation", self.val_percent), ("Test", self.test_percent)]]))
        inner.addWidget(self.groups_hint)
        inner.addWidget(self.groups)
        self.split_mode.currentIndexChanged.connect(self._update_split_widgets)
        self.purpose.currentIndexChanged.connect(self._on_purpose)
        self._on_purpose()
        return box

    def _on_purpose(self, *_args) -> None:
        measuring = self.purpose.currentData() == "measure"
        if measuring:
            self.test_percent.setValue(self.test_percent.value() or self._measure_test_percent)
        else:
            if self.test_percent.value():
                self._measure_test_percent = self.test_percent.value()
            self.test_percent.setValue(0)
        self.test_percent.setEnabled(measuring)
        self._update_split_widgets()

    def _budget_box(self) -> QGroupBox:
        box = QGroupBox("Training")
        self.steps = _spin(1, 10_000_000, 1000, "Meta-training steps (updates).")
        self.meta_batch = _spin(1, 256, 1, "Episodes averaged in each update.")
        self.val_every = _spin(1, 1_000_000, 100, "Validate (and show predictions) every this many steps.")
        self.val_episodes = _spin(1, 100_000, 100, "Validation episodes per validation; more gives a tighter "
                                  "confidence interval.")
        self.seed = _spin(0, 2**31 - 1, 0, "Random seed for the split, the episodes and the weights.")
        self.device = QComboBox()
        self.device.addItem("Auto", "auto")
        self.device.addItem("CPU", "cpu")
        self.device.addItem("CUDA", "cuda")
        if not _cuda_available():
            item = self.device.model().item(2)
            item.setEnabled(False)
            item.setToolTip("No CUDA GPU is available on this computer.")
        self.device.setToolTip("Where to train. Auto: the CUDA GPU if there is one, else the CPU.")
        QVBoxLayout(box).addLayout(_grid([
            [("Steps", self.steps), ("Meta-batch", self.meta_batch), ("Seed", self.seed)],
            [("Validate every", self.val_every), ("Val. episodes", self.val_episodes), ("Device", self.device)],
        ]))
        return box

    # --- state ---------------------------------------------------------------
    def set_value(self, name: str, value) -> None:
        """Set one field by its attribute name (ways, shots, steps, rotations, ...)."""
        widget = getattr(self, name, None)
        if widget is None or not hasattr(widget, "setValue") and not hasattr(widget, "setChecked"):
            raise ValueError(f"no protocol field called {name!r}")
        if isinstance(widget, AutoCheckBox):
            widget.set_value(value if value == "auto" else bool(value))
        elif hasattr(widget, "setChecked"):
            widget.setChecked(bool(value))
        else:
            widget.setValue(value)

    def set_groups(self, groups: list[str]) -> None:
        """Offer these groups for holding out; keeps the checks of groups still present."""
        checked = set(self.checked_groups())
        self.groups.clear()
        for group in groups:
            item = QListWidgetItem(group or "(top level)")
            item.setData(Qt.ItemDataRole.UserRole, group)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if group in checked else Qt.CheckState.Unchecked)
            self.groups.addItem(item)
        self._update_split_widgets()
        self.groupsListed.emit()

    def checked_groups(self) -> list[str]:
        return [
            self.groups.item(i).data(Qt.ItemDataRole.UserRole)
            for i in range(self.groups.count())
            if self.groups.item(i).checkState() == Qt.CheckState.Checked
        ]

    def _update_split_widgets(self) -> None:
        # The group checklist only means something when splitting by group.
        by_group = self.split_mode.currentData() == "group" and self.purpose.currentData() == "measure"
        self.groups.setVisible(by_group and self.groups.count() > 0)
        self.groups.setEnabled(by_group)
        self.groups_hint.setVisible(by_group)
        if self.groups.count() == 0:
            self.groups_hint.setText("No groups in this data yet: groups are the folders that hold class "
                                     "folders (Omniglot: alphabets).")
        else:
            self.groups_hint.setText("Hold out for test (none checked: the test share of groups, at random):")

    def split_spec(self) -> SplitSpec:
        return SplitSpec(
            mode=self.split_mode.currentData(),
            val_fraction=self.val_percent.value() / 100,
            test_fraction=self.test_percent.value() / 100,
            test_groups=tuple(self.checked_groups()) if self.split_mode.currentData() == "group"
            and self.purpose.currentData() == "measure" else (),
            seed=self.seed.value(),
        )

    def config_kwargs(self) -> dict[str, Any]:
        return {
            "ways": self.ways.value(),
            "shots": self.shots.value(),
            "queries": self.queries.value(),
            "train_ways": self.train_ways.value(),
            "image_size": self.image_size.value(),
            "channels": self.channels.currentData(),
            "rotations": self.rotations.value(),
            "mirror": self.mirror.value(),
            "augment": self.augment.isChecked(),
            "invert": self.invert.value(),
            "group_episodes": self.group_share.value() / 100,
            "split": self.split_spec(),
            "purpose": self.purpose.currentData(),
            "steps": self.steps.value(),
            "meta_batch": self.meta_batch.value(),
            "seed": self.seed.value(),
            "device": self.device.currentData(),
            "val_every": self.val_every.value(),
            "checkpoint_every": self.val_every.value(),  # a checkpoint with each validation
            "val_episodes": self.val_episodes.value(),
        }


def _cuda_available() -> bool:
    try:
        import torch

        return torch.cuda.is_available()
    except Exception:  # a broken CUDA install should only grey out the option
        return False
