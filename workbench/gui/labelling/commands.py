"""Qt's undo stack over the core's operations."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QUndoCommand

from workbench.labelling.operations import Operation
from workbench.labelling.session import LabelSession


class OperationCommand(QUndoCommand):
    """Applies a workbench.labelling Operation on redo and reverts it on undo, then calls `changed`."""

    def __init__(self, operation: Operation, session: LabelSession, changed: Callable[[], None]) -> None:
        super().__init__(operation.text)
        self.operation, self.session, self.changed = operation, session, changed

    def redo(self) -> None:
        self.operation.apply(self.session)
        self.changed()

    def undo(self) -> None:
        self.operation.revert(self.session)
        self.changed()
