"""Labels that look wrong: what the audit of the last adapt found (adaptation/audit.py), by path,
and relabelling them as the class they look like.

A suspect stays one only while its image still carries the label the audit saw: relabelling or
clearing it takes the mark away until the next adapt audits the labels again, and undoing that
brings the mark back with the label.
"""

from __future__ import annotations

from dataclasses import dataclass

from workbench.labelling.operations import SetLabels
from workbench.labelling.session import HUMAN, Label, LabellingError, LabelSession


@dataclass(frozen=True)
class Suspect:
    """An image labelled `given` that the model, adapted without it, puts in `likely` with `confidence`."""

    given: str
    likely: str
    confidence: float

    def describe(self) -> str:
        return f"looks like {self.likely} {self.confidence:.0%}"


def is_current(session: LabelSession, path: str, suspect: Suspect) -> bool:
    """Whether `path` still has the label the audit doubted (and the likely class still exists)."""
    label = session.labels.get(path)
    return label is not None and label.name == suspect.given and suspect.likely in session.classes


def current_suspects(session: LabelSession, suspects: dict[str, Suspect]) -> dict[str, Suspect]:
    """The suspects whose labels are still as audited, in the session's image order."""
    if not suspects:
        return {}  # the usual case, asked on every change of selection: no walk over the images
    return {p: suspects[p] for p in session.images if p in suspects and is_current(session, p, suspects[p])}


def relabel_as_likely(session: LabelSession, suspects: dict[str, Suspect], paths: list[str]) -> SetLabels:
    """Label each current suspect among `paths` as its likely class, by a person (one undoable step)."""
    chosen = current_suspects(session, {p: suspects[p] for p in paths if p in suspects})
    if not chosen:
        raise LabellingError("None of the selected images has a label that looks wrong; select a marked one "
                             "(Show › Suspect labels lists them).")
    likely = {s.likely for s in chosen.values()}
    noun = f"{len(chosen)} image{'s' if len(chosen) != 1 else ''}"
    text = f"Relabel {noun} as '{next(iter(likely))}'" if len(likely) == 1 else f"Relabel {noun} as their likely classes"
    return SetLabels({p: Label(s.likely, HUMAN) for p, s in chosen.items()}, text)
