"""How the Label page is laid out: its actions (with their shortcuts), toolbar, side column (model,
classes, adapt, label next) and image grid. The page's behaviour is in page.py."""

from __future__ import annotations

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

def make_actions(page) -> None:
    page.open_folder_action = _action(page, "Open folder…", page.open_folder, "Ctrl+Shift+L",
                                           "Open a folder of images to label (Ctrl+Shift+L).")
    page.open_session_action = _action(page, "Open session…", page.open_session, None,
                                            "Reopen a saved labelling session.")
    # Ctrl+S is the window's: on this page it calls save_session (one action, no ambiguity).
    page.save_session_action = _action(page, "Save session…", lambda: page.save_session(ask=True), None,
                                            "Save the folder, classes, labels, model and threshold (Ctrl+S).")
    # Fixed texts keep the toolbar still; the tooltip names what would be undone.
    page.undo_action = _action(page, "Undo", page.undo_stack.undo, QKeySequence.StandardKey.Undo)
    page.redo_action = _action(page, "Redo", page.undo_stack.redo, "Ctrl+Shift+Z")
    page.redo_action.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
    page.undo_stack.canUndoChanged.connect(page.undo_action.setEnabled)
    page.undo_stack.canRedoChanged.connect(page.redo_action.setEnabled)
    page.undo_stack.undoTextChanged.connect(lambda text: page.undo_action.setToolTip(f"Undo: {text} (Ctrl+Z)"))
    page.undo_stack.redoTextChanged.connect(lambda text: page.redo_action.setToolTip(f"Redo: {text} (Ctrl+Shift+Z)"))
    page.undo_action.setEnabled(False)
    page.redo_action.setEnabled(False)
    page.export_csv_action = _action(page, "Export CSV…", page.export_csv, None,
                                          "Write path, label, confidence and source of every image.")
    page.copy_action = _action(page, "Copy labelled images into class folders…",
                                    lambda: page.export_to_folders(move=False))
    page.move_action = _action(page, "Move labelled images into class folders…",
                                    lambda: page.export_to_folders(move=True))
    page.export_model_action = _action(page, "Export model…", page.export_model)
    page.adapt_action = _action(page, "Adapt", page.adapt, "Ctrl+Return",
                                     "Adapt the model to the labelled images and predict the others (Ctrl+Enter).")

def build(page) -> None:
    page.banner = MessageBanner()

    toolbar = QToolBar()
    toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
    for action in (page.open_folder_action, page.open_session_action, page.save_session_action):
        toolbar.addAction(action)
    toolbar.addSeparator()
    toolbar.addAction(page.undo_action)
    toolbar.addAction(page.redo_action)
    toolbar.addSeparator()
    toolbar.addAction(page.export_csv_action)
    folders = QToolButton()
    folders.setText("Class folders ▾")
    folders.setObjectName("menuButton")  # the style sheets hide Fusion's indicator, which overlapped the text
    folders.setToolTip("Copy (or move) the labelled images into one folder per class; nothing is overwritten.")
    folders.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
    menu = QMenu(folders)
    menu.addAction(page.copy_action)
    menu.addAction(page.move_action)
    folders.setMenu(menu)
    toolbar.addWidget(folders)
    page.folders_button = folders
    toolbar.addAction(page.export_model_action)

    layout = QVBoxLayout(page)
    layout.setContentsMargins(6, 6, 6, 6)
    layout.addWidget(page.banner)
    layout.addWidget(toolbar)
    split = QSplitter(Qt.Orientation.Horizontal)
    split.addWidget(_build_side(page))
    split.addWidget(_build_grid_area(page))
    split.setStretchFactor(1, 1)
    split.setSizes([290, 900])
    layout.addWidget(split, 1)

def _build_side(page) -> QWidget:
    side = QWidget()
    column = QVBoxLayout(side)
    column.setContentsMargins(0, 0, 4, 0)

    model_box = QGroupBox("Model")
    model_layout = QVBoxLayout(model_box)
    page.model_label = QLabel()
    page.model_label.setWordWrap(True)
    page.choose_run_button = QPushButton("Choose run…")
    page.choose_run_button.setToolTip("Use the best weights of a trained run folder (runs/…).")
    page.choose_run_button.clicked.connect(lambda: page.load_run())
    # Beside the model it saves, where a person labelling looks for it (the toolbar has it too).
    page.export_model_button = QToolButton()
    page.export_model_button.setDefaultAction(page.export_model_action)
    page.export_model_button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
    model_buttons = QHBoxLayout()
    model_buttons.addWidget(page.choose_run_button, 1)
    model_buttons.addWidget(page.export_model_button, 1)
    model_layout.addWidget(page.model_label)
    model_layout.addLayout(model_buttons)

    class_box = QGroupBox("Classes")
    class_layout = QVBoxLayout(class_box)
    page.class_list = ClassList()
    page.class_list.pathsDropped.connect(page.label_paths)
    page.class_list.itemDoubleClicked.connect(lambda item: page.rename_class())
    buttons = QHBoxLayout()
    page.add_class_button = QPushButton("Add")
    page.add_class_button.setToolTip("Add a class.")
    page.add_class_button.clicked.connect(lambda: page.add_class())
    page.rename_class_button = QPushButton("Rename")
    page.rename_class_button.clicked.connect(lambda: page.rename_class())
    page.remove_class_button = QPushButton("Remove")
    page.remove_class_button.setToolTip("Remove the chosen class and its labels (undoable).")
    page.remove_class_button.clicked.connect(lambda: page.remove_class())
    for button in (page.add_class_button, page.rename_class_button, page.remove_class_button):
        buttons.addWidget(button)
    class_hint = QLabel("Drag images onto a class, or select them and press 1–9 (0 clears).")
    class_hint.setObjectName("hint")
    class_hint.setWordWrap(True)
    class_layout.addWidget(page.class_list, 1)
    class_layout.addLayout(buttons)
    class_layout.addWidget(class_hint)

    adapt_box = QGroupBox("Adapt and predict")
    adapt_layout = QVBoxLayout(adapt_box)
    page.adapt_button = QPushButton("Adapt")
    page.adapt_button.setObjectName("adaptButton")
    page.adapt_button.setToolTip(page.adapt_action.toolTip())
    page.adapt_button.clicked.connect(page.adapt)
    page.auto_adapt = QCheckBox("Adapt on every new label")
    page.auto_adapt.setChecked(True)
    page.auto_adapt.setToolTip("Predict again after every change to the labels.")
    page.adapt_status = QLabel("")
    page.adapt_status.setObjectName("hint")
    page.adapt_status.setWordWrap(True)
    page.progress = QProgressBar()
    page.progress.hide()
    adapt_layout.addWidget(page.adapt_button)
    adapt_layout.addWidget(page.auto_adapt)
    adapt_layout.addWidget(page.progress)
    adapt_layout.addWidget(page.adapt_status)
    adapt_layout.addWidget(_build_audit(page))

    next_box = QGroupBox("Label next / auto-label")
    grid = QGridLayout(next_box)
    page.suggest_count = QSpinBox()
    page.suggest_count.setRange(1, 500)
    page.suggest_count.setValue(8)
    page.suggest_count.setSuffix(" images")
    page.suggest_count.setToolTip("How many of the least confident images to select.")
    page.suggest_button = QPushButton("Suggest")
    page.suggest_button.setToolTip("Select the unlabelled images the model is least sure about: label these next.")
    page.suggest_button.clicked.connect(lambda: page.suggest())
    page.threshold = QDoubleSpinBox()
    page.threshold.setRange(0, 100)
    page.threshold.setDecimals(0)
    page.threshold.setSuffix(" %")
    page.threshold.setValue(90)
    page.threshold.setToolTip("Predictions at least this confident can be accepted as labels at once.")
    page.threshold.valueChanged.connect(page.threshold_changed)
    page.accept_selected_button = QPushButton("Accept selected")
    page.accept_selected_button.setToolTip("Take the predictions of the selected images as their labels.")
    page.accept_selected_button.clicked.connect(page.accept_selected)
    page.accept_all_button = QPushButton("Accept all ≥ threshold")
    page.accept_all_button.setToolTip("Take every prediction at or above the threshold as a label (undoable).")
    page.accept_all_button.clicked.connect(page.accept_all)
    grid.addWidget(page.suggest_button, 0, 0)
    grid.addWidget(page.suggest_count, 0, 1)
    grid.addWidget(QLabel("Threshold"), 1, 0)
    grid.addWidget(page.threshold, 1, 1)
    grid.addWidget(page.accept_selected_button, 2, 0, 1, 2)
    grid.addWidget(page.accept_all_button, 3, 0, 1, 2)  # a row each: never clipped at the side's width

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
    return scroll

def _build_audit(page) -> QWidget:
    """What the last adapt's label audit found: how many labels look wrong, Review, Relabel as the likely class."""
    box = QFrame()
    box.setObjectName("auditBox")
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 4, 0, 0)
    page.audit_label = QLabel("")
    page.audit_label.setWordWrap(True)
    page.audit_label.setToolTip("After each adapt, every labelled image is predicted from the other labels; "
                                "one the model confidently puts in another class is marked ⚠ in the grid.")
    page.review_button = QPushButton("Review")
    page.review_button.setToolTip("Show only the labels that look wrong and select the first.")
    page.review_button.clicked.connect(page.review_suspects)
    page.relabel_button = QPushButton("Relabel as likely class")
    page.relabel_button.clicked.connect(page.relabel_suspects)
    row = QHBoxLayout()
    row.addWidget(page.review_button)
    row.addWidget(page.relabel_button, 1)
    layout.addWidget(page.audit_label)
    layout.addLayout(row)
    page.audit_box = box
    box.hide()
    return box


def _build_grid_area(page) -> QWidget:
    area = QWidget()
    column = QVBoxLayout(area)
    column.setContentsMargins(4, 0, 0, 0)
    page.class_buttons = QWidget()
    page.class_buttons_layout = QHBoxLayout(page.class_buttons)
    page.class_buttons_layout.setContentsMargins(0, 0, 0, 0)

    view_row = QHBoxLayout()
    page.class_filter = QComboBox()
    page.class_filter.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
    page.class_filter.setToolTip("Show only the images of one class (labelled or predicted as it), or the labels "
                                 "that look wrong.")
    page.class_filter.currentIndexChanged.connect(page.apply_filter)
    page.confidence_filter = QComboBox()
    page.confidence_filter.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
    for text, mode in (("Any confidence", "any"), ("Predicted ≥ threshold", "at least"),
                       ("Predicted < threshold", "below")):
        page.confidence_filter.addItem(text, mode)
    page.confidence_filter.setToolTip("Show only unlabelled images predicted above or below the threshold.")
    page.confidence_filter.currentIndexChanged.connect(page.apply_filter)
    page.sort_by = QComboBox()
    for text, key in (("File name", "name"), ("Confidence (least first)", "confidence"), ("Class", "class")):
        page.sort_by.addItem(text, key)
    page.sort_by.currentIndexChanged.connect(lambda: page.proxy.set_sort(page.sort_by.currentData()))
    view_row.addWidget(QLabel("Show"))
    view_row.addWidget(page.class_filter)
    view_row.addWidget(page.confidence_filter)
    view_row.addSpacing(12)
    view_row.addWidget(QLabel("Sort by"))
    view_row.addWidget(page.sort_by)
    view_row.addStretch(1)

    page.grid = ImageGrid()
    page.grid.setModel(page.proxy)
    page.grid.numberPressed.connect(page.label_selected_number)
    page.grid.clearPressed.connect(page.clear_selected)
    page.viewer = ImageViewer(page.grid, lambda path: page.session.absolute(path), page)
    page.grid.viewRequested.connect(page.viewer.show_index)
    page.grid.selectionModel().selectionChanged.connect(lambda *_: page.update_state())
    page.hint = QLabel(FIRST_HINT)
    page.hint.setObjectName("firstHint")
    page.hint.setWordWrap(True)
    page.hint.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
    page.stack = QStackedWidget()
    page.stack.addWidget(page.hint)
    page.stack.addWidget(page.grid)
    page.summary = ElidedLabel("")  # holds the folder's path: elided, never widening the window
    page.summary.setObjectName("hint")

    column.addWidget(horizontal_scroller(page.class_buttons))  # many classes scroll instead of widening
    column.addLayout(view_row)
    column.addWidget(page.stack, 1)
    column.addWidget(page.summary)
    return area


def fill_class_buttons(page, classes: list[str]) -> None:
    """One 'label selected as' button per class (keys 1-9 for the first nine) and a Clear button."""
    if getattr(page, "class_button_names", None) == list(classes):
        return  # a label changes no button: rebuilding hundreds of them on every click took seconds
    page.class_button_names = list(classes)
    layout = page.class_buttons_layout
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
    combo = page.class_filter
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
