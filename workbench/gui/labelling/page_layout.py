"""How the Label page is laid out: its actions (with their shortcuts), toolbar, side column (model,
classes, adapt, label next) and image grid. The page's behaviour is in page.py.

`make_actions` returns the page's actions as a `LabelPageActions`, `build` its widgets as a `LabelPageWidgets`
(one typed object per area); the page keeps them as `page.actions` and `page.ui`."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMenu,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QSplitter,
    QStackedWidget,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from workbench.gui.banner import MessageBanner
from workbench.gui.elided_label import ElidedLabel, horizontal_scroller
from workbench.gui.labelling.class_list import ClassList
from workbench.gui.labelling.colors import class_color
from workbench.gui.labelling.grid_model import ALL, LABELLED, SUSPECTS, UNLABELLED
from workbench.gui.labelling.grid_view import ImageGrid
from workbench.gui.labelling.image_viewer import ImageViewer

FIRST_HINT = ("<h3>Label a few images, let the model label the rest</h3>"
              "<ol><li><b>Open a folder</b> of unlabelled images (toolbar, or Ctrl+Shift+L).</li>"
              "<li><b>Choose a trained run</b> under Model (or train one on the Training tab).</li>"
              "<li><b>Add classes</b> and label a few images: drag them onto a class, select them and press "
              "1–9, or click a class button.</li>"
              "<li>Press <b>Adapt</b>: every other image gets a predicted class and a confidence.</li>"
              "<li><b>Suggest</b> shows the least confident ones to label next; <b>Accept</b> takes the confident "
              "ones as labels. Export a CSV, copy the images into class folders, or <b>Export model…</b> to "
              "predict with it elsewhere.</li></ol>")


@dataclass(frozen=True)
class LabelPageActions:
    """The page's actions, with their shortcuts (on the page, and in its toolbar and buttons)."""

    open_folder: QAction
    open_session: QAction
    save_session: QAction
    undo: QAction
    redo: QAction
    export_csv: QAction
    copy_to_folders: QAction
    move_to_folders: QAction
    export_model: QAction
    adapt: QAction


@dataclass(frozen=True)
class SideColumn:
    """The side column's boxes: Model, Classes, Adapt and predict (its audit box apart), Label next."""

    model_label: QLabel
    choose_run_button: QPushButton
    export_model_button: QToolButton
    class_list: ClassList
    add_class_button: QPushButton
    rename_class_button: QPushButton
    remove_class_button: QPushButton
    adapt_button: QPushButton
    auto_adapt: QCheckBox
    adapt_status: QLabel
    progress: QProgressBar
    suggest_count: QSpinBox
    suggest_button: QPushButton
    threshold: QDoubleSpinBox
    accept_selected_button: QPushButton
    accept_all_button: QPushButton


@dataclass(frozen=True)
class AuditBox:
    """Under Adapt: how many labels look wrong after the last adapt, Review, Relabel as the likely class."""

    box: QFrame
    label: QLabel
    review_button: QPushButton
    relabel_button: QPushButton


@dataclass(frozen=True)
class ImageArea:
    """Right of the side column: the class buttons, the Show and Sort by row, the grid (or the first hint)
    in `stack`, the line under it, and the full-size viewer."""

    class_buttons: QWidget
    class_buttons_layout: QHBoxLayout
    class_filter: QComboBox
    confidence_filter: QComboBox
    sort_by: QComboBox
    grid: ImageGrid
    viewer: ImageViewer
    hint: QLabel
    stack: QStackedWidget
    summary: ElidedLabel


@dataclass(frozen=True)
class LabelPageWidgets:
    """The page's widgets: its banner, the toolbar's Class folders button, and one object per area."""

    banner: MessageBanner
    folders_button: QToolButton
    side: SideColumn
    audit: AuditBox
    images: ImageArea


def _action(page, text: str, slot, shortcut=None, tip: str = "") -> QAction:
    action = QAction(text, page)
    action.triggered.connect(lambda checked=False: slot())
    if shortcut is not None:
        action.setShortcut(QKeySequence(shortcut))
        action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
    if tip:
        action.setToolTip(tip)
    page.addAction(action)
    return action

def make_actions(page) -> LabelPageActions:
    open_folder = _action(page, "Open folder…", page.open_folder, "Ctrl+Shift+L",
                          "Open a folder of images to label (Ctrl+Shift+L).")
    open_session = _action(page, "Open session…", page.open_session, None, "Reopen a saved labelling session.")
    # Ctrl+S is the window's: on this page it calls save_session (one action, no ambiguity).
    save_session = _action(page, "Save session…", lambda: page.save_session(ask=True), None,
                           "Save the folder, classes, labels, model and threshold (Ctrl+S).")
    # Fixed texts keep the toolbar still; the tooltip names what would be undone.
    undo = _action(page, "Undo", page.undo_stack.undo, QKeySequence.StandardKey.Undo)
    redo = _action(page, "Redo", page.undo_stack.redo, "Ctrl+Shift+Z")
    redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
    page.undo_stack.canUndoChanged.connect(undo.setEnabled)
    page.undo_stack.canRedoChanged.connect(redo.setEnabled)
    page.undo_stack.undoTextChanged.connect(lambda text: undo.setToolTip(f"Undo: {text} (Ctrl+Z)"))
    page.undo_stack.redoTextChanged.connect(lambda text: redo.setToolTip(f"Redo: {text} (Ctrl+Shift+Z)"))
    undo.setEnabled(False)
    redo.setEnabled(False)
    export_csv = _action(page, "Export CSV…", page.export_csv, None,
                         "Write path, label, confidence and source of every image.")
    copy_to_folders = _action(page, "Copy labelled images into class folders…",
                              lambda: page.export_to_folders(move=False))
    move_to_folders = _action(page, "Move labelled images into class folders…",
                              lambda: page.export_to_folders(move=True))
    export_model = _action(page, "Export model…", page.export_model)
    adapt = _action(page, "Adapt", page.adapt, "Ctrl+Return",
                    "Adapt the model to the labelled images and predict the others (Ctrl+Enter).")
    return LabelPageActions(open_folder, open_session, save_session, undo, redo, export_csv, copy_to_folders,
                            move_to_folders, export_model, adapt)

def build(page, actions: LabelPageActions) -> LabelPageWidgets:
    banner = MessageBanner()

    toolbar = QToolBar()
    toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
    for action in (actions.open_folder, actions.open_session, actions.save_session):
        toolbar.addAction(action)
    toolbar.addSeparator()
    toolbar.addAction(actions.undo)
    toolbar.addAction(actions.redo)
    toolbar.addSeparator()
    toolbar.addAction(actions.export_csv)
    folders = QToolButton()
    folders.setText("Class folders ▾")
    folders.setObjectName("menuButton")  # the style sheets hide Fusion's indicator, which overlapped the text
    folders.setToolTip("Copy (or move) the labelled images into one folder per class; nothing is overwritten.")
    folders.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
    menu = QMenu(folders)
    menu.addAction(actions.copy_to_folders)
    menu.addAction(actions.move_to_folders)
    folders.setMenu(menu)
    toolbar.addWidget(folders)
    toolbar.addAction(actions.export_model)

    layout = QVBoxLayout(page)
    layout.setContentsMargins(6, 6, 6, 6)
    layout.addWidget(banner)
    layout.addWidget(toolbar)
    split = QSplitter(Qt.Orientation.Horizontal)
    audit = _build_audit(page)
    side_widget, side = _build_side(page, actions, audit)
    split.addWidget(side_widget)
    images_widget, images = _build_grid_area(page)
    split.addWidget(images_widget)
    split.setStretchFactor(1, 1)
    split.setSizes([290, 900])
    layout.addWidget(split, 1)
    return LabelPageWidgets(banner, folders, side, audit, images)

def _build_side(page, actions: LabelPageActions, audit: AuditBox) -> tuple[QWidget, SideColumn]:
    side = QWidget()
    column = QVBoxLayout(side)
    column.setContentsMargins(0, 0, 4, 0)

    model_box = QGroupBox("Model")
    model_layout = QVBoxLayout(model_box)
    model_label = QLabel()
    model_label.setWordWrap(True)
    choose_run_button = QPushButton("Choose run…")
    choose_run_button.setToolTip("Use the best weights of a trained run folder (runs/…).")
    choose_run_button.clicked.connect(lambda: page.load_run())
    # Beside the model it saves, where a person labelling looks for it (the toolbar has it too).
    export_model_button = QToolButton()
    export_model_button.setDefaultAction(actions.export_model)
    export_model_button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
    model_buttons = QHBoxLayout()
    model_buttons.addWidget(choose_run_button, 1)
    model_buttons.addWidget(export_model_button, 1)
    model_layout.addWidget(model_label)
    model_layout.addLayout(model_buttons)

    class_box = QGroupBox("Classes")
    class_layout = QVBoxLayout(class_box)
    class_list = ClassList()
    class_list.pathsDropped.connect(page.label_paths)
    class_list.itemDoubleClicked.connect(lambda item: page.rename_class())
    buttons = QHBoxLayout()
    add_class_button = QPushButton("Add")
    add_class_button.setToolTip("Add a class.")
    add_class_button.clicked.connect(lambda: page.add_class())
    rename_class_button = QPushButton("Rename")
    rename_class_button.clicked.connect(lambda: page.rename_class())
    remove_class_button = QPushButton("Remove")
    remove_class_button.setToolTip("Remove the chosen class and its labels (undoable).")
    remove_class_button.clicked.connect(lambda: page.remove_class())
    for button in (add_class_button, rename_class_button, remove_class_button):
        buttons.addWidget(button)
    class_hint = QLabel("Drag images onto a class, or select them and press 1–9 (0 clears).")
    class_hint.setObjectName("hint")
    class_hint.setWordWrap(True)
    class_layout.addWidget(class_list, 1)
    class_layout.addLayout(buttons)
    class_layout.addWidget(class_hint)

    adapt_box = QGroupBox("Adapt and predict")
    adapt_layout = QVBoxLayout(adapt_box)
    adapt_button = QPushButton("Adapt")
    adapt_button.setObjectName("adaptButton")
    adapt_button.setToolTip(actions.adapt.toolTip())
    adapt_button.clicked.connect(page.adapt)
    auto_adapt = QCheckBox("Adapt on every new label")
    auto_adapt.setChecked(True)
    auto_adapt.setToolTip("Predict again after every change to the labels.")
    adapt_status = QLabel("")
    adapt_status.setObjectName("hint")
    adapt_status.setWordWrap(True)
    progress = QProgressBar()
    progress.hide()
    adapt_layout.addWidget(adapt_button)
    adapt_layout.addWidget(auto_adapt)
    adapt_layout.addWidget(progress)
    adapt_layout.addWidget(adapt_status)
    adapt_layout.addWidget(audit.box)

    next_box = QGroupBox("Label next / auto-label")
    grid = QGridLayout(next_box)
    suggest_count = QSpinBox()
    suggest_count.setRange(1, 500)
    suggest_count.setValue(8)
    suggest_count.setSuffix(" images")
    suggest_count.setToolTip("How many of the least confident images to select.")
    suggest_button = QPushButton("Suggest")
    suggest_button.setToolTip("Select the unlabelled images the model is least sure about: label these next.")
    suggest_button.clicked.connect(lambda: page.suggest())
    threshold = QDoubleSpinBox()
    threshold.setRange(0, 100)
    threshold.setDecimals(0)
    threshold.setSuffix(" %")
    threshold.setValue(90)
    threshold.setToolTip("Predictions at least this confident can be accepted as labels at once.")
    threshold.valueChanged.connect(page.threshold_changed)
    accept_selected_button = QPushButton("Accept selected")
    accept_selected_button.setToolTip("Take the predictions of the selected images as their labels.")
    accept_selected_button.clicked.connect(page.accept_selected)
    accept_all_button = QPushButton("Accept all ≥ threshold")
    accept_all_button.setToolTip("Take every prediction at or above the threshold as a label (undoable).")
    accept_all_button.clicked.connect(page.accept_all)
    grid.addWidget(suggest_button, 0, 0)
    grid.addWidget(suggest_count, 0, 1)
    grid.addWidget(QLabel("Threshold"), 1, 0)
    grid.addWidget(threshold, 1, 1)
    grid.addWidget(accept_selected_button, 2, 0, 1, 2)
    grid.addWidget(accept_all_button, 3, 0, 1, 2)  # a row each: never clipped at the side's width

    column.addWidget(model_box)
    column.addWidget(class_box, 1)
    column.addWidget(adapt_box)
    column.addWidget(next_box)
    # On a short screen (1024 x 700) the column, with the audit box shown, is taller than the page: it
    # scrolls instead of squeezing its buttons and sentences.
    scroll = QScrollArea()
    scroll.setWidget(side)
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QFrame.Shape.NoFrame)
    scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    side.setMinimumWidth(270)
    scroll.setMinimumWidth(270 + scroll.verticalScrollBar().sizeHint().width())
    scroll.setMaximumWidth(380)
    return scroll, SideColumn(model_label, choose_run_button, export_model_button, class_list, add_class_button,
                              rename_class_button, remove_class_button, adapt_button, auto_adapt, adapt_status,
                              progress, suggest_count, suggest_button, threshold, accept_selected_button,
                              accept_all_button)

def _build_audit(page) -> AuditBox:
    """What the last adapt's label audit found: how many labels look wrong, Review, Relabel as the likely class."""
    box = QFrame()
    box.setObjectName("auditBox")
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 4, 0, 0)
    label = QLabel("")
    label.setWordWrap(True)
    label.setToolTip("After each adapt, every labelled image is predicted from the other labels; "
                     "one the model confidently puts in another class is marked ⚠ in the grid.")
    review_button = QPushButton("Review")
    review_button.setToolTip("Show only the labels that look wrong and select the first.")
    review_button.clicked.connect(page.review_suspects)
    relabel_button = QPushButton("Relabel as likely class")
    relabel_button.clicked.connect(page.relabel_suspects)
    row = QHBoxLayout()
    row.addWidget(review_button)
    row.addWidget(relabel_button, 1)
    layout.addWidget(label)
    layout.addLayout(row)
    box.hide()
    return AuditBox(box, label, review_button, relabel_button)


def _build_grid_area(page) -> tuple[QWidget, ImageArea]:
    area = QWidget()
    column = QVBoxLayout(area)
    column.setContentsMargins(4, 0, 0, 0)
    class_buttons = QWidget()
    class_buttons_layout = QHBoxLayout(class_buttons)
    class_buttons_layout.setContentsMargins(0, 0, 0, 0)

    view_row = QHBoxLayout()
    class_filter = QComboBox()
    class_filter.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
    class_filter.setToolTip("Show only the images of one class (labelled or predicted as it), or the labels "
                            "that look wrong.")
    class_filter.currentIndexChanged.connect(page.apply_filter)
    confidence_filter = QComboBox()
    confidence_filter.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
    for text, mode in (("Any confidence", "any"), ("Predicted ≥ threshold", "at least"),
                       ("Predicted < threshold", "below")):
        confidence_filter.addItem(text, mode)
    confidence_filter.setToolTip("Show only unlabelled images predicted above or below the threshold.")
    confidence_filter.currentIndexChanged.connect(page.apply_filter)
    sort_by = QComboBox()
    for text, key in (("File name", "name"), ("Confidence (least first)", "confidence"), ("Class", "class")):
        sort_by.addItem(text, key)
    sort_by.currentIndexChanged.connect(lambda: page.proxy.set_sort(sort_by.currentData()))
    view_row.addWidget(QLabel("Show"))
    view_row.addWidget(class_filter)
    view_row.addWidget(confidence_filter)
    view_row.addSpacing(12)
    view_row.addWidget(QLabel("Sort by"))
    view_row.addWidget(sort_by)
    view_row.addStretch(1)

    grid = ImageGrid()
    grid.setModel(page.proxy)
    grid.numberPressed.connect(page.label_selected_number)
    grid.clearPressed.connect(page.clear_selected)
    viewer = ImageViewer(grid, lambda path: page.session.absolute(path), page)
    grid.viewRequested.connect(viewer.show_index)
    grid.selectionModel().selectionChanged.connect(lambda *_: page.update_state())
    hint = QLabel(FIRST_HINT)
    hint.setObjectName("firstHint")
    hint.setWordWrap(True)
    hint.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
    stack = QStackedWidget()
    stack.addWidget(hint)
    stack.addWidget(grid)
    summary = ElidedLabel("")  # holds the folder's path: elided, never widening the window
    summary.setObjectName("hint")

    column.addWidget(horizontal_scroller(class_buttons))  # many classes scroll instead of widening
    column.addLayout(view_row)
    column.addWidget(stack, 1)
    column.addWidget(summary)
    return area, ImageArea(class_buttons, class_buttons_layout, class_filter, confidence_filter, sort_by, grid,
                           viewer, hint, stack, summary)


def fill_class_buttons(page, classes: list[str]) -> None:
    """One 'label selected as' button per class (keys 1-9 for the first nine) and a Clear button."""
    if page.class_button_names == list(classes):
        return  # a label changes no button: rebuilding hundreds of them on every click took seconds
    page.class_button_names = list(classes)
    layout = page.ui.images.class_buttons_layout
    while layout.count():
        item = layout.takeAt(0)
        if item.widget():
            item.widget().deleteLater()
    layout.addWidget(QLabel("Label selected as:" if classes else "Add classes to label images."))
    page.class_button_list = []
    for i, name in enumerate(classes):
        button = QPushButton(f"{i + 1} · {name}" if i < 9 else name)
        color = class_color(i).name()
        button.setStyleSheet(f"QPushButton {{ border: 2px solid {color}; border-radius: 4px; padding: 3px 8px; }}"
                             f"QPushButton:hover {{ background: {color}; color: white; }}")
        button.setToolTip(f"Label the selected images '{name}'" + (f" (key {i + 1})." if i < 9 else "."))
        button.clicked.connect(lambda checked=False, n=name: page.label_selected(n))
        layout.addWidget(button)
        page.class_button_list.append(button)
    if classes:
        clear = QPushButton("0 · Clear")
        clear.setToolTip("Remove the labels of the selected images (0 or Backspace).")
        clear.clicked.connect(page.clear_selected)
        layout.addWidget(clear)
    layout.addStretch(1)


def fill_class_filter(page, classes: list[str]) -> bool:
    """The Show choices for these classes, keeping the one chosen; True when it had to change (a class
    that is gone), so the filter is to be applied again."""
    combo = page.ui.images.class_filter
    current = combo.currentData()
    combo.blockSignals(True)
    combo.clear()
    combo.addItem("All images", ALL)
    combo.addItem("Unlabelled", UNLABELLED)
    combo.addItem("Labelled", LABELLED)
    combo.addItem("Suspect labels", SUSPECTS)
    for name in classes:
        combo.addItem(f"Class: {name}", name)
    found = combo.findData(current)
    combo.setCurrentIndex(max(found, 0))
    combo.blockSignals(False)
    return found < 0 and current is not None
