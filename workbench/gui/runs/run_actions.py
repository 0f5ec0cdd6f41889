"""What a person does to runs on the Runs page besides training with them: rename, tag, annotate, delete (to the
trash, with Undo) and compare two runs' settings. Each is a QAction with its key, also in the row's context menu."""

from __future__ import annotations

from dataclasses import replace
from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QMessageBox

from workbench.errors import WorkbenchError
from workbench.gui.runs.compare_dialog import CompareSettingsDialog
from workbench.gui.runs.run_table import EDITABLE, NAME, NOTE, TAGS
from workbench.runs.annotations import update_annotations
from workbench.runs.store import RunSummary
from workbench.runs.trash import Trashed, check_deletable, move_to_trash, restore


def _quoted(names: list[str]) -> str:
    shown = ", ".join(f"'{n}'" for n in names[:3])
    return shown + (f" and {len(names) - 3} more" if len(names) > 3 else "")


class RunActions(QObject):
    """The page's run actions; `page` is the RunsPage (its table, model, proxy and banner)."""

    def __init__(self, page) -> None:
        super().__init__(page)
        self.page = page
        self.compare_dialog: CompareSettingsDialog | None = None
        self.rename_action = self._action("Rename", "F2", self.rename_selected,
                                          "Change the name shown for the selected run (its folder keeps its name).")
        self.tags_action = self._action("Edit tags", None, lambda: self.edit_selected(TAGS),
                                        "Tag the selected run, e.g. 'baseline, lr sweep'; filter the list by tag.")
        self.note_action = self._action("Edit note", None, lambda: self.edit_selected(NOTE),
                                        "Write a note about the selected run.")
        self.delete_action = self._action("Delete…", QKeySequence.StandardKey.Delete, self.delete_selected,
                                          "Move the selected runs' folders to the trash (asks first; Undo puts "
                                          "them back).")
        self.compare_action = self._action("Compare settings", None, self.compare_selected,
                                           "List every setting of the two selected runs side by side, the ones "
                                           "that differ marked.")
        page.model.saver = self.save
        page.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        page.table.customContextMenuRequested.connect(self._context_menu)

    def _action(self, text: str, keys, slot, tip: str) -> QAction:
        action = QAction(text, self.page)  # owned by the page: the shortcuts list names the Runs page
        if keys is not None:
            action.setShortcut(QKeySequence(keys))
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            self.page.table.addAction(action)  # the keys work while the run list has the focus
        action.setToolTip(tip)
        action.triggered.connect(lambda _checked=False: slot())
        return action

    def update(self, runs: list[RunSummary]) -> None:
        """Enable what the selected `runs` allow."""
        own = [r for r in runs if not r.builtin]
        one_own = len(runs) == 1 and len(own) == 1
        for action in (self.rename_action, self.tags_action, self.note_action):
            action.setEnabled(one_own)
        self.delete_action.setEnabled(bool(runs) and len(own) == len(runs))
        self.compare_action.setEnabled(len(runs) == 2)
        if self.compare_dialog is not None and self.compare_dialog.isVisible() and len(runs) == 2:
            self._show_comparison(runs)  # an open comparison follows the selection

    # --- name, tags, note ----------------------------------------------------
    def rename_selected(self) -> None:
        """Edit the name cell of the selected run; on a Tags or Note cell, F2 edits that cell instead."""
        current = self.page.table.currentIndex()
        self.edit_selected(current.column() if current.isValid() and current.column() in EDITABLE else NAME)

    def edit_selected(self, column: int) -> None:
        runs = self.page.selected_runs()
        if len(runs) != 1:
            return
        if runs[0].builtin:
            self.page.banner.show_message(f"'{runs[0].name}' ships with the workbench and is read-only.", "warning")
            return
        row = next(r for r, known in enumerate(self.page.model.runs) if known.path == runs[0].path)
        index = self.page.proxy.mapFromSource(self.page.model.index(row, column))
        self.page.table.setCurrentIndex(index)
        self.page.table.scrollTo(index)
        self.page.table.edit(index)

    def save(self, run: RunSummary, field: str, text: str) -> RunSummary | None:
        """Save one edited cell in the run's annotations.json; the run as it is now, or None (said why)."""
        try:
            saved, kept = update_annotations(run.path, **{field: text})
        except WorkbenchError as exc:
            self.page.banner.show_message(str(exc), "error")
            return None
        if kept:
            self.page.banner.show_message(kept, "warning")
        return replace(run, name=saved.name or run.folder_name, note=saved.note, tags=saved.tags,
                       annotation_problem="")

    # --- deleting ------------------------------------------------------------
    def delete_selected(self) -> None:
        runs = self.page.selected_runs()
        if not runs:
            return
        try:
            for run in runs:
                check_deletable(run.path, run.name, run.builtin)
        except WorkbenchError as exc:
            self.page.banner.show_message(f"{exc} Nothing was deleted.", "error")
            return
        if not self._confirm(runs):
            return
        trashed: list[tuple[Trashed, RunSummary]] = []
        problem = ""
        for run in runs:
            try:
                trashed.append((move_to_trash(run.path, run.name), run))
            except WorkbenchError as exc:
                problem = str(exc)
                break
        self.page.refresh()
        shown = [run.name for _item, run in trashed]
        undo = ("Undo", lambda: self.undo(trashed)) if trashed and all(t.restorable for t, _r in trashed) else None
        them = "them" if len(trashed) > 1 else "it"
        where = "" if undo else f" Restore {them} from the system's trash to get {them} back."
        if problem:
            done = f" {_quoted(shown)} went to the trash before it.{where}" if trashed else ""
            self.page.banner.show_message(problem + done, "error", undo)
            return
        self.page.banner.show_message(f"Moved {_quoted(shown)} to the trash.{where}", "success", undo)

    def _confirm(self, runs: list[RunSummary]) -> bool:
        box = QMessageBox(QMessageBox.Icon.Question, "Delete runs" if len(runs) > 1 else "Delete run",
                          f"Move {_quoted([r.name for r in runs])} to the trash?", parent=self.page.window())
        folders = "\n".join(r.path for r in runs[:5]) + ("\n…" if len(runs) > 5 else "")
        box.setInformativeText(f"The run folder{'s' if len(runs) > 1 else ''}, with the trained model, curves and "
                               f"evaluations, go{'' if len(runs) > 1 else 'es'} to the system's trash:\n{folders}\n"
                               f"Undo on this page, or the trash, puts {'them' if len(runs) > 1 else 'it'} back.")
        box.setStandardButtons(QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel)
        box.button(QMessageBox.StandardButton.Yes).setText("Move to trash")
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        return box.clickedButton() is box.button(QMessageBox.StandardButton.Yes)

    def undo(self, trashed: list[tuple[Trashed, RunSummary]]) -> None:
        """Put trashed runs back, and select them again."""
        back, problems = [], []
        for item, run in trashed:
            try:
                restore(item)
                back.append(run)
            except WorkbenchError as exc:
                problems.append(str(exc))
        self.page.refresh()
        self.page.select_paths([run.path for run in back])
        if problems:
            self.page.banner.show_message(" ".join(problems), "error")
        else:
            self.page.banner.show_message(f"Put {_quoted([run.name for run in back])} back.", "success")

    # --- comparing -----------------------------------------------------------
    def compare_selected(self) -> None:
        runs = self.page.selected_runs()
        if len(runs) != 2:
            self.page.banner.show_message("Select exactly two runs (Ctrl+click the second) to compare their "
                                          "settings.", "info")
            return
        if self.compare_dialog is None:
            self.compare_dialog = CompareSettingsDialog(self.page.window())
        self._show_comparison(runs)
        self.compare_dialog.show()
        self.compare_dialog.raise_()
        self.compare_dialog.activateWindow()

    def _show_comparison(self, runs: list[RunSummary]) -> None:
        self.compare_dialog.show_runs((runs[0].path, runs[0].name), (runs[1].path, runs[1].name))

    # --- menu ----------------------------------------------------------------
    def _context_menu(self, position) -> None:
        index = self.page.table.indexAt(position)
        if index.isValid() and not self.page.table.selectionModel().isRowSelected(index.row(), index.parent()):
            self.page.table.selectRow(index.row())  # as in a file manager: the menu is about the row clicked
        menu = QMenu(self.page.table)
        for action in (self.rename_action, self.tags_action, self.note_action, None, self.compare_action, None,
                       self.delete_action):
            if action is None:
                menu.addSeparator()
            else:
                menu.addAction(action)
        menu.popup(self.page.table.viewport().mapToGlobal(position))
