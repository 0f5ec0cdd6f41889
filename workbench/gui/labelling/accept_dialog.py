"""The question before Accept all: how many images it labels, and how many of those labels are
expected to be wrong, said where the person decides rather than in a tooltip."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget

from workbench.gui.counted import counted
from workbench.labelling.session import LabelSession
from workbench.labelling.suggestions import acceptable_predictions, expected_wrong, held_back_words

ACCEPT = QMessageBox.StandardButton.Ok
CANCEL = QMessageBox.StandardButton.Cancel


def acceptance_question(session: LabelSession, threshold: float) -> tuple[str, str] | None:
    """(question, details) about accepting every prediction at `threshold` or more; None if there is none."""
    chosen = acceptable_predictions(session, threshold)
    if not chosen:
        return None
    wrong = expected_wrong(session, chosen)
    question = f"Label {counted(len(chosen), 'image')} with the class the model predicts?"
    details = (f"Each is predicted at {threshold:.0%} or more. From the model's calibrated confidences, about "
               f"{wrong:.1f} of these {counted(len(chosen), 'label')} are expected to be wrong. "
               "They are marked as accepted predictions, and Undo (Ctrl+Z) takes them back."
               + held_back_words(session, threshold))
    return question, details


def confirm_accept_all(parent: QWidget, session: LabelSession, threshold: float) -> bool:
    """Ask Accept / Cancel; True only on Accept (Escape and closing the box cancel)."""
    asked = acceptance_question(session, threshold)
    if asked is None:
        return True  # nothing to accept: accepting says so in the banner
    box = QMessageBox(QMessageBox.Icon.Question, "Accept predictions as labels?", asked[0], ACCEPT | CANCEL, parent)
    box.setInformativeText(asked[1])
    box.button(ACCEPT).setText("Accept")
    box.setDefaultButton(ACCEPT)
    box.setEscapeButton(CANCEL)
    box.exec()
    clicked = box.clickedButton()
    return clicked is not None and box.standardButton(clicked) == ACCEPT
