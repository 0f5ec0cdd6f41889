"""Asking before work is dropped: one Save / Discard / Cancel question, and the window's guard that
asks it for the labelling session and the project before they are replaced or the window closes."""

from __future__ import annotations

from dataclasses import asdict

from PySide6.QtWidgets import QMessageBox

SAVE = QMessageBox.StandardButton.Save
DISCARD = QMessageBox.StandardButton.Discard
CANCEL = QMessageBox.StandardButton.Cancel


def ask_to_save(parent, title: str, text: str, question: str) -> QMessageBox.StandardButton:
    """Save, Discard or Cancel (Escape and closing the box mean Cancel)."""
    box = QMessageBox(QMessageBox.Icon.Warning, title, text, SAVE | DISCARD | CANCEL, parent)
    box.setInformativeText(question)
    box.setDefaultButton(SAVE)
    box.setEscapeButton(CANCEL)
    box.exec()
    clicked = box.clickedButton()
    answer = box.standardButton(clicked) if clicked is not None else CANCEL
    return answer if answer in (SAVE, DISCARD) else CANCEL


class UnsavedGuard:
    """What `window` would lose, and the question before losing it.

    A project counts as modified once it has a file and the window no longer
    shows what that file holds. The labelling session is the Label page's
    (see labelling/autosave.py). `confirm(doing)` asks about each in turn and
    returns False when the person cancels or a save fails.
    """

    def __init__(self, window) -> None:
        self.window = window
        self.saved_project: dict | None = None

    def mark_project_saved(self) -> None:
        self.saved_project = asdict(self.window.projects.current())

    @property
    def project_modified(self) -> bool:
        projects = self.window.projects
        return projects.path is not None and asdict(projects.current()) != self.saved_project

    @property
    def modified(self) -> bool:
        return self.project_modified or self.window.label_page.keeper.modified

    def confirm(self, doing: str, labels: bool = True) -> bool:
        window = self.window
        if labels and not window.label_page.keeper.confirm_replace(doing):
            return False
        if self.project_modified:
            answer = ask_to_save(window, "Save the project?",
                                 f"The project {window.projects.project.name} has changes that are not saved.",
                                 f"Save them before {doing}?")
            if answer == SAVE:
                return window.projects.save()
            return answer == DISCARD
        return True

    def update_title(self) -> None:
        self.window.setWindowModified(self.modified)
