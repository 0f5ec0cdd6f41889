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


ACCEPT_ALL_FLOOR = 0.90  # Accept all never takes a set its calibrated confidences expect to be less right than this


def acceptable_predictions(session: LabelSession, threshold: float, paths: list[str] | None = None,
                           floor: float = ACCEPT_ALL_FLOOR) -> list[str]:
    """The predictions at `threshold` or more that Accept all takes: the most confident of them, as many as
    keep the expected share right (the mean confidence) at `floor` or more. A threshold below the floor
    then adds images only while the more confident ones make up for them."""
    chosen = confident_predictions(session, threshold, paths)
    if floor <= 0.0:
        return chosen
    kept, total = set(), 0.0
    for path in sorted(chosen, key=lambda p: -session.predictions[p].confidence):
        confidence = session.predictions[path].confidence
        if (total + confidence) / (len(kept) + 1) < floor:
            break
        kept.add(path)
        total += confidence
    return [p for p in chosen if p in kept]


def expected_wrong(session: LabelSession, paths: list[str]) -> float:
    """How many of these predictions are expected to be wrong: the sum of 1 - confidence.

    Meaningful because confidences are calibrated (adaptation/calibration.py): of predictions
    made at 95%, one in twenty is expected wrong."""
    return sum(1.0 - session.predictions[p].confidence for p in paths if p in session.predictions)


def describe_acceptance(session: LabelSession, threshold: float, paths: list[str] | None = None) -> str:
    """What accepting at `threshold` would do, in words, before it is done."""
    chosen = acceptable_predictions(session, threshold, paths)
    if not chosen:
        return f"No unlabelled image is predicted at {threshold:.0%} or more." + held_back_words(session, threshold, paths)
    wrong = expected_wrong(session, chosen)
    return (f"Accept {len(chosen)} prediction{'s' if len(chosen) != 1 else ''} at {threshold:.0%} or more; "
            f"about {wrong:.1f} of them are expected to be wrong." + held_back_words(session, threshold, paths))


def held_back_words(session: LabelSession, threshold: float, paths: list[str] | None = None) -> str:
    """Why some predictions at `threshold` are left out of Accept all, or "" when none is."""
    held = len(confident_predictions(session, threshold, paths)) - len(acceptable_predictions(session, threshold, paths))
    if held == 0:
        return ""
    return (f" {held} less confident prediction{'s are' if held != 1 else ' is'} left for you: with "
            f"{'them' if held != 1 else 'it'} the accepted labels would be expected less than "
            f"{ACCEPT_ALL_FLOOR:.0%} right.")


def accept_predictions(session: LabelSession, threshold: float, paths: list[str] | None = None,
                       floor: float = ACCEPT_ALL_FLOOR) -> SetLabels:
    """An operation turning the confident predictions into labels marked 'accepted prediction'; `floor`:
    the least expected share right of the accepted set (acceptable_predictions; 0 takes every one)."""
    if not 0.0 <= threshold <= 1.0:
        raise LabellingError(f"The confidence threshold must be between 0 and 1 (got {threshold}).")
    chosen = acceptable_predictions(session, threshold, paths, floor)
    if not chosen and confident_predictions(session, threshold, paths):
        raise LabellingError(f"No prediction at {threshold:.0%} or more is {floor:.0%} sure, and Accept all takes no "
                             f"set expected less than {floor:.0%} right: select images and Accept selected to take "
                             "them anyway, or label more images and adapt again.")
    if not chosen:
        raise LabellingError(f"No unlabelled image is predicted with confidence {threshold:.0%} or more; "
                             "lower the threshold or label more images and adapt again.")
    new = {p: Label(session.predictions[p].name, ACCEPTED, session.predictions[p].confidence) for p in chosen}
    count = len(chosen)
    return SetLabels(new, f"Accept {count} prediction{'s' if count != 1 else ''} at {threshold:.0%} or more")
