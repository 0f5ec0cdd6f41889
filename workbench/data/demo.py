"""A demo dataset the app draws itself: procedurally drawn glyph classes, no data or network needed.

Each class is a glyph of two to four random pen strokes (smooth curves through
random control points); each image of a class redraws that glyph with its own
jitter (control points nudged, the glyph shifted, rotated and scaled a little,
pen width varied), so images of one class look alike and classes differ, as
handwritten characters do. Classes are grouped into "alphabets" like Omniglot,
so a split by group works. The same seed always gives the same pixels.
"""

from __future__ import annotations

import math
import os
import sys
from pathlib import Path
from typing import Callable

import numpy as np
from PIL import Image, ImageDraw

from workbench.errors import DataError

DEMO_FOLDER_NAME = "demo-glyphs"
DRAW_SCALE = 3  # draw large, then shrink: smooth edges like a scanned pen stroke


def user_data_dir() -> Path:
    """Where the app keeps data it makes or downloads (XDG on Linux, the usual places elsewhere).

    FEWSHOT_WORKBENCH_DATA overrides it (tests and portable installs).
    """
    override = os.environ.get("FEWSHOT_WORKBENCH_DATA")
    if override:
        return Path(override)
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        value = os.environ.get("XDG_DATA_HOME", "")  # relative or empty: invalid by the XDG rule, ignored
        base = Path(value) if os.path.isabs(value) else Path.home() / ".local" / "share"
    return base / "fewshot-workbench"


def _class_strokes(rng: np.random.Generator) -> list[np.ndarray]:
    """The glyph of one class: 2-4 strokes of 3-5 control points in the unit square."""
    strokes = []
    for _ in range(int(rng.integers(2, 5))):
        points = int(rng.integers(3, 6))
        start = rng.uniform(0.15, 0.85, size=2)
        steps = rng.normal(0.0, 0.28, size=(points - 1, 2))
        stroke = np.vstack([start, start + np.cumsum(steps, axis=0)])
        strokes.append(np.clip(stroke, 0.1, 0.9))
    return strokes


def _smooth(points: np.ndarray, samples: int = 6) -> np.ndarray:
    """A Catmull-Rom curve through the control points (a pen does not draw corners)."""
    if len(points) < 3:
        return points
    padded = np.vstack([points[0], points, points[-1]])
    t = np.linspace(0.0, 1.0, samples, endpoint=False)[:, None]
    out = []
    for i in range(1, len(padded) - 2):
        p0, p1, p2, p3 = padded[i - 1], padded[i], padded[i + 1], padded[i + 2]
        out.append(0.5 * (2 * p1 + (p2 - p0) * t + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t**2
                          + (3 * p1 - p0 - 3 * p2 + p3) * t**3))
    out.append(points[-1][None])
    return np.vstack(out)


def draw_glyph(strokes: list[np.ndarray], rng: np.random.Generator, size: int = 28) -> Image.Image:
    """One image of a glyph: black strokes on white, with this image's own jitter."""
    big = size * DRAW_SCALE
    angle = rng.normal(0.0, 0.12)
    scale = rng.uniform(0.85, 1.05)
    shift = rng.normal(0.0, 0.04, size=2)
    rotation = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    width = max(2, int(round(rng.uniform(1.6, 2.6) * DRAW_SCALE)))
    image = Image.new("L", (big, big), 255)
    pen = ImageDraw.Draw(image)
    for stroke in strokes:
        nudged = stroke + rng.normal(0.0, 0.025, size=stroke.shape)
        curve = ((_smooth(nudged) - 0.5) * scale) @ rotation.T + 0.5 + shift
        pen.line([tuple(p) for p in (curve * big)], fill=0, width=width, joint="curve")
    return image.resize((size, size), Image.Resampling.LANCZOS)


def make_demo_dataset(
    root: str | Path,
    classes: int = 300,
    images_per_class: int = 20,
    classes_per_alphabet: int = 20,
    size: int = 28,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> Path:
    """Write root/alphabet_XX/glyph_YYY/ZZ.png and return root.

    300 classes x 20 images take a few seconds. An existing complete demo
    dataset with the same settings is kept as it is (the pixels would be the same).
    """
    if classes < 2 or images_per_class < 1 or classes_per_alphabet < 1:
        raise DataError("A demo dataset needs at least 2 classes and 1 image per class.")
    root = Path(root)
    stamp = root / ".demo-settings"
    settings = f"{classes} {images_per_class} {classes_per_alphabet} {size} {seed}"
    if stamp.is_file() and stamp.read_text(encoding="utf-8") == settings:
        return root
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(f"Cannot create the demo dataset folder {root}: {exc.strerror or exc}.") from None
    rng = np.random.default_rng(seed)
    for index in range(classes):
        folder = root / f"alphabet_{index // classes_per_alphabet:02d}" / f"glyph_{index % classes_per_alphabet:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        strokes = _class_strokes(rng)
        for i in range(images_per_class):
            draw_glyph(strokes, rng, size).save(folder / f"{i:02d}.png", optimize=False, compress_level=1)
        if progress:
            progress(index + 1, classes)
        if cancelled and cancelled():
            raise DataError("Creating the demo dataset was cancelled; it is incomplete.")
    stamp.write_text(settings, encoding="utf-8")
    return root


def default_demo_path() -> Path:
    return user_data_dir() / DEMO_FOLDER_NAME
