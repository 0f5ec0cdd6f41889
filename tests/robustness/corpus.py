"""A corpus of bad (and oddly good) inputs, generated on the fly: nothing binary is committed.

Two kinds of case:

* `FileCase`: one file dropped into an otherwise good class folder. Either it is
  used (`kind is None`: it decodes) or it becomes one `Problem` of `kind` whose
  message matches `words`. The rest of the data is always still used.
* tree cases (in test_bad_inputs.py): whole folders or zips that are wrong as a
  whole (symlink loops, zip bombs, a single class, a folder that disappears...).

Every image is drawn with PIL and encoded in memory; the 20 000 x 20 000 images
are crafted headers of a few dozen bytes, so the corpus builds in well under a second.
"""

from __future__ import annotations

import io
import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
from PIL import Image

from workbench.data import problems as P

FORMATS = {"PNG": ".png", "JPEG": ".jpg", "GIF": ".gif", "BMP": ".bmp", "TIFF": ".tif", "WEBP": ".webp"}


def picture(mode: str = "RGB", size: tuple[int, int] = (40, 32)) -> Image.Image:
    """A test picture: white with a dark square, in any PIL mode."""
    image = Image.new("RGB", size, (255, 255, 255))
    w, h = size
    image.paste((10, 20, 30), (w // 4, h // 4, 3 * w // 4, 3 * h // 4))
    if mode == "I;16":
        return Image.fromarray(np.asarray(image.convert("L")).astype(np.uint16) * 257)
    if mode in ("I", "F"):
        return Image.fromarray(np.asarray(image.convert("L")).astype(np.int32 if mode == "I" else np.float32) * 1000)
    return image if mode == "RGB" else image.convert(mode)


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def good_bytes(fmt: str = "PNG") -> bytes:
    return encode(picture(), fmt)


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def huge_png_header(width: int = 20_000, height: int = 20_000) -> bytes:
    """A PNG that claims width x height pixels: signature, IHDR and a token IDAT (a few dozen bytes)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + png_chunk(b"IEND", b"")


def huge_bmp_header(width: int = 20_000, height: int = 20_000) -> bytes:
    """A 24-bit BMP header claiming width x height pixels, with no pixel data."""
    pixels = width * height * 3
    return (b"BM" + struct.pack("<IHHI", 54 + pixels, 0, 0, 54)
            + struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0, pixels, 2835, 2835, 0, 0))


def exif_rotated_jpeg(orientation: int) -> bytes:
    image = Image.new("L", (40, 20), 255)
    image.paste(0, (0, 0, 10, 20))  # dark band on the left as stored
    exif = Image.Exif()
    exif[0x0112] = orientation
    return encode(image.convert("RGB"), "JPEG", exif=exif.tobytes())


def animated_gif() -> bytes:
    frames = [picture("P"), picture("P").transpose(Image.Transpose.ROTATE_180)]
    return encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)


@dataclass(frozen=True)
class FileCase:
    """One file named `filename` holding `data()`; `kind` None: it must decode; else the problem expected."""

    name: str
    filename: str
    data: Callable[[], bytes]
    kind: str | None = None
    words: str = ""

    def write(self, folder: Path) -> Path:
        path = folder / self.filename
        path.write_bytes(self.data())
        return path


def _file_cases() -> list[FileCase]:
    cases: list[FileCase] = []
    for fmt, ext in FORMATS.items():
        low = fmt.lower()
        cases += [
            FileCase(f"{low}-valid", f"valid{ext}", lambda f=fmt: good_bytes(f)),
            FileCase(f"{low}-zero-bytes", f"zero{ext}", lambda: b"", P.UNREADABLE, "empty file"),
            FileCase(f"{low}-truncated-half", f"half{ext}", lambda f=fmt: good_bytes(f)[: len(good_bytes(f)) // 2],
                     P.UNREADABLE, "damaged or truncated"),
            FileCase(f"{low}-header-only", f"head{ext}", lambda f=fmt: good_bytes(f)[:24],
                     P.UNREADABLE, "damaged or truncated|not a readable image"),
        ]
    elf = b"\x7fELF\x02\x01\x01" + bytes(9) + struct.pack("<HHI", 2, 62, 1) + bytes(40)
    cases += [
        FileCase("text-named-png", "notes.png", lambda: b"shopping list: eggs, milk\n", P.UNREADABLE, "not a readable image"),
        FileCase("executable-named-png", "program.png", lambda: elf, P.UNREADABLE, "not a readable image"),
        FileCase("shell-script-named-jpg", "script.jpg", lambda: b"#!/bin/sh\necho pwned > /tmp/pwned\n",
                 P.UNREADABLE, "not a readable image"),
        FileCase("html-named-gif", "page.gif", lambda: b"<!doctype html><html><body>404</body></html>",
                 P.UNREADABLE, "not a readable image"),
        FileCase("random-bytes-webp", "noise.webp", lambda: np.random.default_rng(1).bytes(3000),
                 P.UNREADABLE, "not a readable image"),
        FileCase("png-named-jpg", "really_png.jpg", lambda: good_bytes("PNG")),
        FileCase("jpeg-named-bmp", "really_jpeg.bmp", lambda: good_bytes("JPEG")),
        FileCase("cmyk-jpeg", "cmyk.jpg", lambda: encode(picture("CMYK"), "JPEG")),
        FileCase("cmyk-tiff", "cmyk.tif", lambda: encode(picture("CMYK"), "TIFF")),
        FileCase("16-bit-png", "deep.png", lambda: encode(picture("I;16"), "PNG")),
        FileCase("16-bit-tiff", "deep.tif", lambda: encode(picture("I;16"), "TIFF")),
        FileCase("32-bit-int-tiff", "int32.tif", lambda: encode(picture("I"), "TIFF")),
        FileCase("float-tiff", "float.tif", lambda: encode(picture("F"), "TIFF")),
        FileCase("palette-png", "palette.png", lambda: encode(picture("P"), "PNG")),
        FileCase("palette-transparent-png", "palette_alpha.png",
                 lambda: encode(picture("P"), "PNG", transparency=0)),
        FileCase("rgba-png", "rgba.png", lambda: encode(picture("RGBA"), "PNG")),
        FileCase("la-png", "la.png", lambda: encode(picture("LA"), "PNG")),
        FileCase("1-bit-png", "bilevel.png", lambda: encode(picture("1"), "PNG")),
        FileCase("1-bit-tiff-group4", "fax.tif", lambda: encode(picture("1"), "TIFF", compression="group4")),
        FileCase("grayscale-jpeg", "gray.jpg", lambda: encode(picture("L"), "JPEG")),
        FileCase("progressive-jpeg", "progressive.jpg", lambda: encode(picture(), "JPEG", progressive=True)),
        FileCase("exif-rotated-90", "rot90.jpg", lambda: exif_rotated_jpeg(6)),
        FileCase("exif-rotated-180", "rot180.jpg", lambda: exif_rotated_jpeg(3)),
        FileCase("exif-rotated-270", "rot270.jpg", lambda: exif_rotated_jpeg(8)),
        FileCase("animated-gif", "animated.gif", animated_gif),
        FileCase("rgba-webp", "alpha.webp", lambda: encode(picture("RGBA"), "WEBP")),
        FileCase("lossless-webp", "lossless.webp", lambda: encode(picture(), "WEBP", lossless=True)),
        FileCase("one-pixel", "dot.png", lambda: encode(picture(size=(1, 1)), "PNG")),
        FileCase("very-wide", "strip.png", lambda: encode(picture(size=(3000, 2)), "PNG")),
        FileCase("20000x20000-png", "bomb.png", huge_png_header, P.UNREADABLE, "megapixel"),
        FileCase("20000x20000-bmp", "bomb.bmp", huge_bmp_header, P.UNREADABLE, "megapixel"),
        FileCase("100000x100000-png", "huge.png", lambda: huge_png_header(100_000, 100_000), P.UNREADABLE, "megapixel"),
        FileCase("non-latin-name-cjk", "漢字の画像.png", lambda: good_bytes("PNG")),
        FileCase("non-latin-name-arabic", "صورة.png", lambda: good_bytes("PNG")),
        FileCase("non-latin-name-cyrillic", "картинка.jpg", lambda: good_bytes("JPEG")),
        FileCase("emoji-name", "🐱 cat.png", lambda: good_bytes("PNG")),
        FileCase("name-with-spaces", "my holiday  photo .png", lambda: good_bytes("PNG")),
        FileCase("name-with-newline", "two\nlines.png", lambda: good_bytes("PNG")),
        FileCase("broken-name-with-newline", "broken\nfile.png", lambda: b"", P.UNREADABLE, "empty file"),
        FileCase("name-starting-with-dash", "-rf.png", lambda: good_bytes("PNG")),
        FileCase("long-name", "x" * 200 + ".png", lambda: good_bytes("PNG")),
        FileCase("upper-case-extension", "SHOUT.PNG", lambda: good_bytes("PNG")),
        FileCase("not-an-image-extension", "readme.txt", lambda: b"notes", P.NOT_AN_IMAGE, "not an image file type"),
    ]
    return cases


FILE_CASES = _file_cases()


def write_undecodable_name(folder: Path) -> Path:
    """A valid PNG whose file name is not valid UTF-8 (bytes 0xff 0xfe), as old archives leave behind."""
    raw = os.fsencode(folder) + b"/caf\xe9_\xff\xfe.png"
    with open(raw, "wb") as handle:
        handle.write(good_bytes("PNG"))
    return Path(os.fsdecode(raw))


def make_good_classes(root: Path, classes: int = 4, images: int = 4, size: int = 20, prefix: str = "good") -> list[Path]:
    """`classes` class folders of `images` distinct small PNGs each."""
    rng = np.random.default_rng(classes * 100 + images)
    folders = []
    for c in range(classes):
        folder = root / f"{prefix}_{c}"
        folder.mkdir(parents=True, exist_ok=True)
        base = rng.random((size, size)) < 0.4
        for i in range(images):
            noise = rng.random((size, size)) < 0.05
            Image.fromarray(((base ^ noise) * 255).astype(np.uint8), mode="L").save(folder / f"img_{i}.png")
        folders.append(folder)
    return folders


def make_corpus_dataset(root: Path) -> tuple[Path, dict[str, Path]]:
    """Good classes plus one folder holding every FileCase: what the CLI and GUI tests load.

    Returns the dataset root and each case's path.
    """
    make_good_classes(root)
    folder = root / "corpus"
    folder.mkdir(parents=True, exist_ok=True)
    paths = {case.name: case.write(folder) for case in FILE_CASES}
    return root, paths


def make_zip_bomb(path: Path, expanded_mib: int = 100) -> Path:
    """A zip whose one image member expands to `expanded_mib` MiB of zeros (a few hundred KB packed).

    The member is streamed in, so building it never holds the expanded bytes.
    """
    import zipfile

    good = good_bytes("PNG")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for c in range(3):
            for i in range(3):
                archive.writestr(f"data/class_{c}/img_{i}.png", good)
        info = zipfile.ZipInfo("data/class_0/bomb.png")
        info.compress_type = zipfile.ZIP_DEFLATED
        with archive.open(info, "w", force_zip64=True) as member:
            chunk = bytes(2**20)
            for _ in range(expanded_mib):
                member.write(chunk)
    return path


def mark_encrypted(path: Path, member: str) -> None:
    """Set the 'encrypted' flag of `member` in both of its zip headers (zipfile cannot write encrypted zips)."""
    import zipfile

    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(member)
    data[info.header_offset + 6] |= 0x1  # local file header: general purpose flags at offset 6
    name = member.encode()
    at = data.find(b"PK\x01\x02")
    while at != -1:  # central directory entries: flags at offset 8, name at offset 46
        length = int.from_bytes(data[at + 28:at + 30], "little")
        if bytes(data[at + 46:at + 46 + length]) == name:
            data[at + 8] |= 0x1
        at = data.find(b"PK\x01\x02", at + 46)
    path.write_bytes(bytes(data))
