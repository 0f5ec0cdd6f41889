"""How much of a scanned dataset can really be read, from what the image check found.

The scan counts files by name; the background check (dataset_controller.check_images) decodes each
once and lists those that fail. Counting from that list means no image is decoded a second time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from workbench.data import problems as P
from workbench.data.problems import Problem
from workbench.data.sources import DatasetScan
from workbench.gui.counted import counted, noun


@dataclass(frozen=True)
class ReadableCounts:
    """Classes and images that decode; `unreadable` images are in the scan but cannot be used."""

    classes: int
    images: int
    unreadable: int = 0
    per_class: dict[str, int] = field(default_factory=dict)  # class key -> readable images, where fewer than scanned


def readable_counts(scan: DatasetScan, found: list[Problem]) -> ReadableCounts:
    """What of `scan` decodes, given the problems the image check `found` (not the scan's own: an
    unreadable file the scan saw is already left out of its classes)."""
    broken = {p.path for p in found if p.kind == P.UNREADABLE}
    if not broken:  # the usual case: no walk over every image
        return ReadableCounts(len(scan.classes), scan.image_count)
    per_class = {}
    for entry in scan.classes:
        bad = sum(1 for ref in entry.images if ref.display_path in broken)
        if bad:
            per_class[entry.key] = len(entry.images) - bad
    unreadable = sum(len(entry.images) for entry in scan.classes if entry.key in per_class) - sum(per_class.values())
    empty = sum(1 for count in per_class.values() if count == 0)
    return ReadableCounts(len(scan.classes) - empty, scan.image_count - unreadable, unreadable, per_class)


def describe_counts(scan: DatasetScan, counts: ReadableCounts, bold: bool = False) -> list[str]:
    """'3 classes', '18 images (2 more cannot be read)': what can be used first, then what cannot."""
    def number(value: int) -> str:
        return f"<b>{value:,}</b>" if bold else f"{value:,}"

    no_images = len(scan.classes) - counts.classes
    classes = f"{number(counts.classes)} {noun(counts.classes, 'class')}"
    if no_images:
        classes += f" ({counted(no_images, 'more class')} with no readable image)"
    images = f"{number(counts.images)} {noun(counts.images, 'image')}"
    if counts.unreadable:
        images += f" ({counts.unreadable:,} more cannot be read)"
    return [classes, images]
