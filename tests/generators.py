"""Running a generator of progress events to its end in a test, for the value it returns."""

from __future__ import annotations

from typing import Any, Generator


def return_value(steps: Generator) -> Any:
    """Drain `steps` (progress events are dropped) and return what the generator returned."""
    while True:
        try:
            next(steps)
        except StopIteration as done:
            return done.value
