"""Getting labels out: a CSV of every image, or the labelled images copied (or moved) into class folders."""

from __future__ import annotations

import csv
import io
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from workbench.data.problems import printable
from workbench.files import kind_of
from workbench.labelling.listing import resolved
from workbench.labelling.session import LabellingError, LabelSession, class_name_problem, folder_key
from workbench.atomic import write_text_atomic
from workbench.labelling.export_copy import copy_exclusive, remove_dead_partials

CSV_COLUMNS = ("path", "label", "confidence", "source")
PREDICTED = "predicted"  # a prediction not accepted as a label
UNLABELLED = "unlabelled"


def csv_rows(session: LabelSession) -> list[dict[str, str]]:
    """One row per image, in the session's order.

    source is 'human' (confidence empty: a person's label has none), 'accepted
    prediction' (the confidence it was accepted at), 'predicted' (a prediction
    not accepted: label and confidence are the model's) or 'unlabelled' (no
    label and no prediction: label and confidence empty).
    """
    rows = []
    for path in session.images:
        label = session.labels.get(path)
        prediction = session.predictions.get(path)
        if label is not None:
            confidence = "" if label.confidence is None else f"{label.confidence:.4f}"
            row = (label.name, confidence, label.source)
        elif prediction is not None:
            row = (prediction.name, f"{prediction.confidence:.4f}", PREDICTED)
        else:
            row = ("", "", UNLABELLED)
        rows.append(dict(zip(CSV_COLUMNS, (session.absolute(path), *row))))
    return rows


def write_csv(session: LabelSession, target: str | os.PathLike) -> int:
    """Write the CSV atomically; returns the number of rows."""
    rows = csv_rows(session)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    try:
        write_text_atomic(target, buffer.getvalue())
    except OSError as exc:
        raise LabellingError(f"Could not write {target}: {exc.strerror or exc}.") from None
    return len(rows)


@dataclass
class FolderExport:
    """What an export into class folders did: each (source, destination) done, each (source, reason) failed."""

    done: list[tuple[str, str]] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    moved: bool = False


def export_to_class_folders(session: LabelSession, target: str | os.PathLike, move: bool = False) -> FolderExport:
    """Copy (or move) each labelled image into target/<class>/ — never overwriting.

    A name already taken gets a suffix (img.png -> img_2.png). Each copy is
    written under a hidden name and renamed only once complete (export_copy.py),
    so an export killed midway leaves no half image under an image's name. A
    move copies first and deletes the original only once the copy is complete,
    so a failure leaves the image where it was; failures are listed, not raised.
    """
    root = Path(target)
    if resolved(root) == resolved(session.folder):
        raise LabellingError("Choose a target folder other than the image folder itself.")
    if resolved(session.folder) in resolved(root).parents:  # its copies would come back as new, unlabelled images
        raise LabellingError(f"{root} is inside the folder being labelled, so its copies would be listed there as "
                             f"new images; choose a target folder outside {session.folder}. Nothing was copied.")
    bad_names = sorted({label.name for label in session.labels.values() if class_name_problem(label.name)})
    if bad_names:  # checked again here: a name that is a path would put images outside the target
        name = bad_names[0]
        raise LabellingError(f"'{printable(name)}' cannot be a class name ({class_name_problem(name)}); "
                             f"rename the class, then export again. Nothing was copied or moved.")
    twins = _folder_twins({label.name for label in session.labels.values()})
    if twins:  # a session file may hold 'Cat' and 'cat': on many drives one folder, the two classes mixed
        raise LabellingError(f"The classes '{printable(twins[0])}' and '{printable(twins[1])}' would share one folder "
                             f"on Windows and macOS (they differ only in case or accent encoding); rename one, then "
                             f"export again. Nothing was copied or moved.")
    _make_target(root)
    report = FolderExport(moved=move)
    cleaned: set[Path] = set()
    for path in session.images:
        label = session.labels.get(path)
        if label is None:
            continue
        source = Path(session.absolute(path))
        try:
            folder = root / label.name
            folder.mkdir(parents=True, exist_ok=True)
            if folder not in cleaned:  # what an export killed before left: once per folder, not per image
                remove_dead_partials(folder)
                cleaned.add(folder)
            destination = copy_exclusive(source, folder, durable=move)
            if move:
                source.unlink()
        except OSError as exc:
            report.failed.append((str(source), exc.strerror or str(exc)))
            continue
        report.done.append((str(source), str(destination)))
    return report


def _folder_twins(names: set[str]) -> tuple[str, str] | None:
    """Two of `names` whose folders would be one on a drive blind to case and accent encoding, or None."""
    seen: dict[str, str] = {}
    for name in sorted(names):
        other = seen.setdefault(folder_key(name), name)
        if other != name:
            return other, name
    return None


def _make_target(root: Path) -> None:
    """Make the target folder, or say in one sentence why it cannot be one (not one failure per image)."""
    try:
        root.mkdir(parents=True, exist_ok=True)
        return
    except OSError as exc:
        reason = exc.strerror or str(exc)
    try:  # mkdir says "File exists" for a file or a link loop: say what is there instead
        mode = os.stat(root).st_mode
        if not stat.S_ISDIR(mode):
            reason = "it is a file, not a folder" if stat.S_ISREG(mode) else f"it is {kind_of(mode)}, not a folder"
    except OSError as exc:
        reason = exc.strerror or reason
    raise LabellingError(f"Cannot export into {printable(str(root))}: {reason}. Nothing was copied or moved.")
