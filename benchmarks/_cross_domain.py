"""Image folders from domains a drawing-trained run never saw, built from what this machine can install.

- `fashion_folder`: product photographs (Fashion-MNIST's test set, 28 px grayscale, 10 classes), from the
  Debian package `dataset-fashion-mnist` (apt-get install dataset-fashion-mnist).
- `font_glyph_folder`: printed characters, one class per character, one image per installed typeface
  (fontconfig's list), drawn with a small random shift and rotation so no two are pixel-identical.

Each returns the folder, or None with the reason when what it needs is not installed.
"""

from __future__ import annotations

import gzip
import random
import subprocess
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

FASHION = Path("/usr/share/datasets/fashion-mnist")
FASHION_CLASSES = ("t-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "ankle-boot")
GLYPHS = "ABDEFGHKMNPQRTWXY2345789abdefghmnqrty&?@"  # look-alikes (O/0, I/l/1, C/c...) left out
NOT_LETTERS = ("symbol", "d050000l", "dingbat")  # faces whose code points draw pictures, not letters


def fashion_folder(root: Path, per_class: int = 60, seed: int = 0) -> tuple[Path | None, str]:
    images_file, labels_file = FASHION / "t10k-images-idx3-ubyte.gz", FASHION / "t10k-labels-idx1-ubyte.gz"
    if not images_file.exists():
        return None, f"{FASHION} is absent (apt-get install dataset-fashion-mnist)"
    with gzip.open(images_file) as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28)
    with gzip.open(labels_file) as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8)
    rng = np.random.default_rng(seed)
    for label, name in enumerate(FASHION_CLASSES):
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        for i, row in enumerate(rng.choice(np.flatnonzero(labels == label), per_class, replace=False)):
            Image.fromarray(images[row]).save(folder / f"{i:03d}.png")
    return root, ""


def _letter_faces() -> list[str]:
    try:
        listed = subprocess.run(["fc-list", "--format", "%{file}\n"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    files = sorted({line.strip() for line in listed.splitlines() if line.strip().endswith((".ttf", ".otf"))})
    return [f for f in files if not any(word in Path(f).name.lower() for word in NOT_LETTERS)]


def font_glyph_folder(root: Path, size: int = 64, seed: int = 0, min_faces: int = 12) -> tuple[Path | None, str]:
    faces = _letter_faces()
    if len(faces) < min_faces:
        return None, f"only {len(faces)} typefaces are installed (fc-list); {min_faces} are needed"
    rng = random.Random(seed)
    for index, character in enumerate(GLYPHS):
        folder = root / f"{index:02d}-{'upper' if character.isupper() else 'other'}-{ord(character)}"
        folder.mkdir(parents=True, exist_ok=True)
        for number, face in enumerate(faces):
            font = ImageFont.truetype(face, int(size * 0.7))
            canvas = Image.new("L", (size, size), 255)
            draw = ImageDraw.Draw(canvas)
            left, top, right, bottom = draw.textbbox((0, 0), character, font=font)
            x = (size - (right - left)) / 2 - left + rng.uniform(-3, 3)
            y = (size - (bottom - top)) / 2 - top + rng.uniform(-3, 3)
            draw.text((x, y), character, fill=0, font=font)
            canvas.rotate(rng.uniform(-8, 8), fillcolor=255, resample=Image.BILINEAR).save(folder / f"{number:03d}.png")
    return root, ""
