"""Decoding one image into the model's input format.

Training, evaluation, adapt and the GUI all go through `decode_image`, so an
image is preprocessed the same way wherever it comes from: any mode (palette,
RGBA, CMYK, 16-bit, 1-bit), EXIF orientation applied, squashed to size x size.
"""

from __future__ import annotations

import io
import warnings

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

# Refuse images above this many pixels before decoding them (decompression bombs).
MAX_PIXELS = 40_000_000


class ImageDecodeError(ValueError):
    """An image could not be decoded; the message says why in words."""


def decode_image(data: bytes, size: int, channels: int) -> np.ndarray:
    """Decode image bytes into a uint8 array of shape (channels, size, size).

    Raises ImageDecodeError with a readable reason for anything unusable.
    """
    if not data:
        raise ImageDecodeError("empty file (0 bytes)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # PIL's notes on odd files (corrupt EXIF...) are not the user's business
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
                if width * height > MAX_PIXELS:
                    raise ImageDecodeError(
                        f"image is {width}x{height} pixels, above the {MAX_PIXELS // 1_000_000} megapixel limit"
                    )
                if image.format == "JPEG":
                    image.draft("RGB" if channels == 3 else "L", (size, size))
                image.load()
                image = ImageOps.exif_transpose(image)
                image = _to_mode(image, channels)
                image = image.resize((size, size), Image.Resampling.BILINEAR)
                array = np.asarray(image, dtype=np.uint8)
    except ImageDecodeError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageDecodeError(f"image is too large to decode safely (over {MAX_PIXELS // 1_000_000} megapixels)")
    except UnidentifiedImageError:
        raise ImageDecodeError("not a readable image (unknown or damaged format)")
    except (OSError, SyntaxError, ValueError, TypeError, EOFError) as exc:
        raise ImageDecodeError(f"damaged or truncated image ({exc})")
    except MemoryError:
        raise ImageDecodeError("not enough memory to decode this image")
    if channels == 1:
        return array[None, :, :].copy()
    return np.ascontiguousarray(array.transpose(2, 0, 1))


def _to_mode(image: Image.Image, channels: int) -> Image.Image:
    """Bring any PIL mode to 'L' or 'RGB', compositing transparency on white."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        values = np.asarray(image, dtype=np.float64)
        finite = np.isfinite(values)
        if not finite.all():  # scaled with them, every pixel would become 0: say so rather than give black
            raise ImageDecodeError(f"{values.size - int(finite.sum())} of {values.size} pixels are NaN or infinite "
                                   f"(a float image); write numbers there to use it")
        low, high = float(values.min()), float(values.max())
        scaled = (values - low) * (255.0 / (high - low)) if high > low else np.zeros_like(values)
        image = Image.fromarray(scaled.astype(np.uint8), mode="L")
    if image.mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    if image.mode in ("RGBA", "LA", "PA", "La", "RGBa"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, rgba).convert("RGB")
    target = "L" if channels == 1 else "RGB"
    return image if image.mode == target else image.convert(target)


def load_image_file(path: str, size: int, channels: int) -> np.ndarray:
    """Read and decode one file from disk (used by adapt and the GUI)."""
    from workbench.data.sources import read_file_bounded

    try:
        data = read_file_bounded(path)
    except OSError as exc:
        raise ImageDecodeError(f"cannot read file ({exc.strerror or exc})")
    except ValueError as exc:
        raise ImageDecodeError(f"cannot read file ({exc})")
    return decode_image(data, size, channels)
