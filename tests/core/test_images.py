"""Every image mode ends up as the same uint8 (C, S, S) array; bombs are refused."""

import io

import numpy as np
import pytest
from PIL import Image

from workbench.data.images import ImageDecodeError, decode_image


def encode(image: Image.Image, fmt: str = "PNG", **kw) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **kw)
    return buffer.getvalue()


@pytest.mark.parametrize("mode", ["1", "L", "P", "RGB", "RGBA", "LA", "I;16", "CMYK"])
@pytest.mark.parametrize("channels", [1, 3])
def test_any_mode_decodes_to_the_requested_shape(mode, channels):
    image = Image.new("RGB", (40, 30), (255, 255, 255))
    image.paste((0, 0, 0), (10, 5, 30, 25))
    converted = image.convert(mode) if mode != "I;16" else Image.fromarray((np.asarray(image.convert("L")).astype(np.uint16) * 257))
    fmt = "JPEG" if mode == "CMYK" else ("TIFF" if mode == "I;16" else "PNG")
    array = decode_image(encode(converted, fmt), 20, channels)
    assert array.shape == (channels, 20, 20) and array.dtype == np.uint8
    assert array.min() < 60 and array.max() > 200  # the dark square survives


def test_transparent_pixels_become_white():
    image = Image.new("RGBA", (10, 10), (0, 0, 0, 0))
    assert decode_image(encode(image), 10, 1).min() == 255


def test_exif_orientation_is_applied():
    image = Image.new("L", (40, 20), 255)
    image.paste(0, (0, 0, 10, 20))  # dark on the left
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise when shown
    data = encode(image.convert("RGB"), "JPEG", exif=exif.tobytes())
    array = decode_image(data, 20, 1)[0]
    assert array[:5].mean() < array[-5:].mean()  # the dark band is now at the top


def test_huge_image_is_refused_before_decoding():
    header = Image.new("1", (20_000, 20_000))
    with pytest.raises(ImageDecodeError, match="megapixel"):
        decode_image(encode(header), 28, 1)


@pytest.mark.parametrize("data, words", [(b"", "empty"), (b"GIF89a not really", "not a readable image"), (b"\x89PNG\r\n\x1a\n\x00\x00", "damaged|not a readable")])
def test_broken_bytes_give_a_reason(data, words):
    with pytest.raises(ImageDecodeError, match=words):
        decode_image(data, 28, 1)
