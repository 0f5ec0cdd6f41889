"""Why a dataset cannot train, in words, before Start is pressed: N-way episodes need N classes, and a
folder of images with no class subfolders is one class (a folder to label, not to train on)."""

from __future__ import annotations

from pathlib import Path

from workbench.data.sources import DatasetScan


def flat_folder(scan: DatasetScan) -> str | None:
    """The folder, when the scan is one folder holding its images directly (no class subfolders)."""
    if len(scan.classes) != 1 or len(scan.roots) != 1 or not Path(scan.roots[0]).is_dir():
        return None
    images = scan.classes[0].images[:50]
    # Images straight in the chosen folder: their path inside it has no folder part.
    direct = images and all(not image.in_zip and "/" not in image.member.replace("\\", "/") for image in images)
    return scan.roots[0] if direct else None


def training_blocker(scan: DatasetScan | None, ways: int) -> str | None:
    """A sentence saying why `scan` cannot train `ways`-way episodes, or None when it can."""
    if scan is None or not scan.classes or len(scan.classes) >= ways:
        return None
    count = len(scan.classes)
    have = f"{count} class{'es' if count != 1 else ''}"
    if flat_folder(scan):
        return (f"This folder holds its {scan.image_count:,} images directly, so it is one class: {ways}-way "
                f"episodes need {ways} class folders (one subfolder of images per class). Put each class in its "
                "own subfolder, or open the folder on the Label page to sort the images into classes.")
    return (f"This dataset has {have}, and {ways}-way episodes need at least {ways} (one folder of images per "
            f"class). Add classes, or lower N ways to {max(count, 2)} or less.")
