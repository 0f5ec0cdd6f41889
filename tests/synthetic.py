"""Small real image datasets drawn with PIL for tests: each class is a random glyph,
each image that glyph shifted and speckled, so a network can learn to tell them apart."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

OMNIGLOT = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "omniglot"
OMNIGLOT_SMALL1 = OMNIGLOT / "images_background_small1.zip"


def glyph_image(pattern: np.ndarray, rng: np.random.Generator, size: int = 28) -> Image.Image:
    canvas = np.full((size, size), 255, dtype=np.uint8)
    cell = size // 8
    big = np.kron(pattern, np.ones((cell, cell), dtype=np.uint8))
    dy, dx = rng.integers(0, size - big.shape[0] + 1, size=2)
    canvas[dy:dy + big.shape[0], dx:dx + big.shape[1]][big > 0] = 0
    noise = rng.random((size, size)) < 0.03
    canvas[noise] = 255 - canvas[noise]
    return Image.fromarray(canvas, mode="L")


def make_glyph_dataset(
    root: Path, groups: int = 2, classes_per_group: int = 6, images_per_class: int = 8, seed: int = 0, size: int = 28
) -> Path:
    """root/group_g/class_c/img_i.png, PNG files decoded like any user's images."""
    rng = np.random.default_rng(seed)
    for g in range(groups):
        for c in range(classes_per_group):
            folder = root / f"group_{g}" / f"class_{c:02d}"
            folder.mkdir(parents=True, exist_ok=True)
            pattern = (rng.random((6, 6)) < 0.45).astype(np.uint8)
            for i in range(images_per_class):
                glyph_image(pattern, rng, size).save(folder / f"img_{i:02d}.png")
    return root


def distinct_image(kind: int, rng: np.random.Generator, size: int = 28) -> Image.Image:
    """Class `kind` (0-2) is a dark bar across the top, a bar down the left, or a square at the bottom
    right, lightly speckled: even a barely trained model tells them apart, so a wrong label stands out."""
    canvas = np.full((size, size), 255, dtype=np.uint8)
    third = size // 3
    if kind == 0:
        canvas[3:3 + size // 4, :] = 0
    elif kind == 1:
        canvas[:, 3:3 + size // 4] = 0
    else:
        canvas[size - third - 4:size - 2, size - third - 4:size - 2] = 0
    noise = rng.random((size, size)) < 0.03
    canvas[noise] = 255 - canvas[noise]
    return Image.fromarray(canvas, mode="L")


def flat_folder_of(group: Path, folder: Path, classes: int, per_class: int) -> Path:
    """A flat folder to label, as a person has one: the first `per_class` images of the first `classes` classes of
    a glyph group, copied as c{class}_{i}.png (the name tells the true class)."""
    import shutil

    folder.mkdir()
    for c in range(classes):
        for i in range(per_class):
            shutil.copy(group / f"class_{c:02d}" / f"img_{i:02d}.png", folder / f"c{c}_{i}.png")
    return folder
