"""What to label next (the least confident predictions) and auto-labelling (accepting confident ones)."""

from __future__ import annotations

from workbench.labelling.operations import SetLabels
from workbench.labelling.session import ACCEPTED, Label, LabellingError, LabelSession


def least_confident(session: LabelSession, k: int) -> list[str]:
    """The `k` unlabelled images whose prediction is least confident, least first.

    Labelling these teaches the model most where it is unsure, as ilastik's
    uncertainty view suggests (a simple form of uncertainty sampling).
    """
    candidates = [(session.predictions[p].confidence, p) for p in session.images
                  if p not in session.labels and p in session.predictions]
    candidates.sort()
    return [path for _, path in candidates[:max(k, 0)]]


def confident_predictions(session: LabelSession, threshold: float, paths: list[str] | None = None) -> list[str]:
    """Unlabelled images (among `paths`, default all) predicted with confidence >= threshold."""
    pool = session.images if paths is None else paths
    return [p for p in pool if p not in session.labels and p in session.predictions
            and session.predictions[p].confidence >= threshold]


def expected_wrong(session: LabelSession, paths: list[str]) -> float:
    """How many of these predictions are expected to be wrong: the sum of 1 - confidence.

    Meaningful because confidences are calibrated (adaptation/calibration.py): of predictions
    made at 95%, one in twenty is expected wrong."""
    return sum(1.0 - session.predictions[p].confidence for p in paths if p in session.predictions)


def describe_acceptance(session: LabelSession, threshold: float, paths: list[str] | None = None) -> str:
    """What accepting at `threshold` would do, in words, before it is done."""
    chosen = confident_predictions(session, threshold, paths)
    if not chosen:
        return f"No unlabelled image is predicted at {threshold:.0%} or more."
    wrong = expected_wrong(session, chosen)
    return (f"Accept {len(chosen)} prediction{'s' if len(chosen) != 1 else ''} at {threshold:.0%} or more; "
            f"about {wrong:.1f} of them are expected to be wrong.")


def accept_predictions(session: LabelSession, threshold: float, paths: list[str] | None = None) -> SetLabels:
    """An operation turning the confident predictions into labels marked 'accepted prediction'."""
    if not 0.0 <= threshold <= 1.0:
        raise LabellingError(f"The confidence threshold must be between 0 and 1 (got {threshold}).")
    chosen = confident_predictions(session, threshold, paths)
    if not chosen:
        raise LabellingError(f"No unlabelled image is predicted with confidence {threshold:.0%} or more; "
                             "lower the threshold or label more images and adapt again.")
    new = {p: Label(session.predictions[p].name, ACCEPTED, session.predictions[p].confidence) for p in chosen}
    count = len(chosen)
    return SetLabels(new, f"Accept {count} prediction{'s' if count != 1 else ''} at {threshold:.0%} or more")
