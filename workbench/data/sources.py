"""Scanning datasets: a folder, or a .zip of one, where every leaf folder of images is a class.

The folders above a class are its group (Omniglot: alphabet / character).
Several datasets combine into one scan; a class with the same relative path in
two datasets is one class (Omniglot's two background zips share Greek and Latin).
Scanning never raises for a bad file: it records a `Problem` and goes on.
"""

from __future__ import annotations

import os
import stat
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Callable, Iterable

from workbench.data import problems as P
from workbench.data.problems import Problem, printable
from workbench.errors import DataError, WorkbenchError
from workbench.files import kind_of

IMAGE_EXTENSIONS = frozenset(
    {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm", ".pbm"}
)
# Files and folders that operating systems and file servers scatter around (thumbnails, metadata,
# recycle bins): skipped without a word, so they never become classes or images. Names are compared
# in lower case; every name starting with "." (.AppleDouble, .thumbnails, .Trash-1000, ...) is skipped too.
IGNORED_NAMES = frozenset({
    ".ds_store", "thumbs.db", "ehthumbs.db", "desktop.ini", "icon\r",
    "@eadir", "@recycle", "@recently-snapshot", "@syno_resource", "#recycle", "#snapshot",
    "__macosx", "$recycle.bin", "system volume information", "lost+found",
})



def check_folder(path: str | os.PathLike, error: type[WorkbenchError], what: str) -> Path:
    """`path` as a Path if it is a folder (links followed); else `error` saying what it is instead:
    missing, unreadable, a pipe or a device ("not found" for a pipe would send a person looking)."""
    shown = printable(str(path))
    try:
        info = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        raise error(f"{what} not found: {shown}") from None
    except ValueError:
        raise error(f"{what} {shown} holds a NUL character, which no path can.") from None
    except OSError as exc:
        raise error(f"{what} {shown} cannot be read: {exc.strerror or exc}.") from None
    if not stat.S_ISDIR(info.st_mode):
        kind = "a file" if stat.S_ISREG(info.st_mode) else kind_of(info.st_mode)
        raise error(f"{what} {shown} is {kind}, not a folder of images.")
    return Path(path)

def is_litter(name: str) -> bool:
    """True for a file or folder name that the OS or a file server made, never the user's data."""
    return name.startswith(".") or name.lower() in IGNORED_NAMES
# An image file larger than this is not a small few-shot image; reading it
# could exhaust memory (a zip bomb expands far beyond its packed size).
MAX_IMAGE_BYTES = 64 * 1024 * 1024
# Image files barely compress (PNG and JPEG already are); a member of some size that
# expands more than this is refused by its declared sizes, before reading any of it.
MAX_COMPRESSION_RATIO = 200
RATIO_CHECK_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True, slots=True)  # slots: a 100 000-image scan is 100 000 of these
class ImageRef:
    """Where one image's bytes live: a file on disk, or a member of a zip."""

    source: str  # the folder root or the zip file
    member: str  # posix path relative to the folder root, or the zip member name
    in_zip: bool = False

    @property
    def display_path(self) -> str:
        return f"{self.source}!{self.member}" if self.in_zip else str(Path(self.source) / self.member)

    def read_bytes(self) -> bytes:
        if self.in_zip:
            with zipfile.ZipFile(self.source) as archive:
                return _read_member(archive, self.member)
        return read_file_bounded(Path(self.source) / self.member)


def read_file_bounded(path: Path) -> bytes:
    """The bytes of a regular file of at most MAX_IMAGE_BYTES.

    Checked on the open file, so a file that became a pipe or grew huge after
    the scan cannot block the reader or exhaust memory.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise ValueError("not a regular file any more")
        data = handle.read(MAX_IMAGE_BYTES + 1)
    if len(data) > MAX_IMAGE_BYTES:
        raise ValueError(f"file grew beyond {MAX_IMAGE_BYTES // 2**20} MiB since the scan")
    return data


@dataclass(frozen=True)
class ClassEntry:
    """A class: its key (relative folder path, unique in a scan), its group and its images."""

    key: str
    group: str
    images: tuple[ImageRef, ...]

    @property
    def name(self) -> str:
        return self.key.rsplit("/", 1)[-1]  # the key is a posix path; asked for once per table row


@dataclass
class DatasetScan:
    """The result of scanning one or more datasets: usable classes and the problems seen."""

    roots: list[str]
    classes: list[ClassEntry] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def image_count(self) -> int:
        return sum(len(c.images) for c in self.classes)

    @property
    def groups(self) -> list[str]:
        return sorted({c.group for c in self.classes})


def is_image_name(name: str) -> bool:
    return os.path.splitext(name)[1].lower() in IMAGE_EXTENSIONS  # a Path per file is slow on big folders


class ScanCancelled(DataError):
    """The scan was stopped by the caller before it finished (a newer scan replaced it)."""


class _Watch:
    """Reports how many images were found so far and stops the scan when asked to.

    A few hundred thousand files take seconds to list, so a caller on another
    thread (the window) shows progress and may cancel. Reports come at most four
    times a second: each one costs the window a repaint.
    """

    def __init__(self, progress: Callable[[int, int], None] | None, cancelled: Callable[[], bool] | None) -> None:
        self.progress = progress
        self.cancelled = cancelled
        self.found = 0
        self._last_report = time.monotonic()

    def tick(self, new_images: int) -> None:
        self.found += new_images
        if self.cancelled is not None and self.cancelled():
            raise ScanCancelled("The scan was cancelled.")
        if self.progress is not None and new_images and time.monotonic() - self._last_report >= 0.25:
            self._last_report = time.monotonic()
            self.progress(self.found, 0)  # total unknown until the walk ends


def scan_datasets(paths: Iterable[str | os.PathLike], progress: Callable[[int, int], None] | None = None,
                  cancelled: Callable[[], bool] | None = None) -> DatasetScan:
    """Scan every path (folder or .zip) and merge their classes.

    Raises DataError only when a path is missing or is neither a folder nor a
    zip, since then there is nothing to go on with (ScanCancelled, a DataError,
    when `cancelled()` turns true). `progress(images_found, 0)` is called now
    and then during the walk.
    """
    roots = [str(p) for p in paths]
    if not roots:
        raise DataError("No dataset given: choose a folder of class folders, or a .zip of one.")
    scan = DatasetScan(roots=roots)
    merged: dict[str, dict[str, ImageRef]] = {}
    duplicates: list[str] = []
    watch = _Watch(progress, cancelled)
    seen_dirs: set[tuple[int, int]] = set()  # (device, inode) of every folder walked, across all the datasets
    seen_zips: set[tuple[int, int]] = set()
    for root in roots:
        found = _scan_one(Path(root), scan.problems, watch, seen_dirs, seen_zips)
        for key, refs in found.items():
            known = merged.setdefault(key, {})
            if known:
                duplicates.append(key)
            for ref in refs:
                # Same class, same file name: the same image seen twice, counted once.
                known.setdefault(PurePosixPath(ref.member).name, ref)
    if progress is not None:
        progress(watch.found, 0)  # the walk is over: the last count
    if duplicates:
        example = ", ".join(duplicates[:3])
        scan.problems.append(
            Problem(
                P.DUPLICATE_CLASS,
                "",
                f"{len(duplicates)} classes appear in more than one dataset and were merged, "
                f"images with the same name counted once (e.g. {example})",
            )
        )
    for key in sorted(merged):
        refs = tuple(merged[key][name] for name in sorted(merged[key]))
        group = str(PurePosixPath(key).parent)
        scan.classes.append(ClassEntry(key=key, group="" if group == "." else group, images=refs))
    return scan


def _scan_one(root: Path, problems: list[Problem], watch: _Watch, seen_dirs: set[tuple[int, int]],
              seen_zips: set[tuple[int, int]]) -> dict[str, list[ImageRef]]:
    try:
        info = root.stat()
    except FileNotFoundError:
        detail = " (a link whose target is missing)" if root.is_symlink() else ""
        raise DataError(f"Dataset path not found: {root}{detail}") from None
    except OSError as exc:
        raise DataError(f"Cannot read the dataset {root}: {_reason(exc)}.") from None
    if stat.S_ISDIR(info.st_mode):
        return _scan_folder(root, problems, watch, seen_dirs)
    if not stat.S_ISREG(info.st_mode):
        # A pipe would block the reader for ever, a device (/dev/zero) would never end.
        raise DataError(f"Not a dataset: {root} is {kind_of(info.st_mode)}, not a folder or a .zip file.")
    if (info.st_dev, info.st_ino) in seen_zips:
        problems.append(Problem(P.DUPLICATE_CLASS, str(root), "the same zip file given twice; read once"))
        return {}
    seen_zips.add((info.st_dev, info.st_ino))
    if info.st_size == 0:
        raise DataError(f"Not a dataset: {root} is an empty file (0 bytes), not a folder or a .zip file.")
    if zipfile.is_zipfile(root):
        return _scan_zip(root, problems, watch)
    with open(root, "rb") as handle:
        starts_as_zip = handle.read(4) == b"PK\x03\x04"
    if starts_as_zip or root.suffix.lower() == ".zip":
        raise DataError(f"Cannot read zip file {root}: it is damaged or incomplete (cut off while it was "
                        f"downloaded or copied?); get the file again.")
    raise DataError(f"Not a dataset: {root} is neither a folder nor a .zip file.")


def _scan_folder(root: Path, problems: list[Problem], watch: _Watch,
                 seen_dirs: set[tuple[int, int]]) -> dict[str, list[ImageRef]]:
    classes: dict[str, list[ImageRef]] = {}
    # seen_dirs: (device, inode) of the folders walked, so a symlink loop, a link to a folder seen before or a
    # second --data naming the same folder cannot count one folder twice.
    stack = [root]
    while stack:
        watch.tick(0)
        folder = stack.pop()
        rel_folder = folder.relative_to(root).as_posix()
        try:
            info = folder.stat()
            if (info.st_dev, info.st_ino) in seen_dirs:
                problems.append(Problem(P.UNREADABLE_FOLDER, str(folder), "folder already visited (symlink loop, or "
                                        "a link or second dataset path leading to a folder seen before); skipped"))
                continue
            seen_dirs.add((info.st_dev, info.st_ino))
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            problems.append(Problem(P.UNREADABLE_FOLDER, str(folder), f"cannot read folder ({_reason(exc)}); skipped"))
            continue
        images: list[ImageRef] = []
        subfolders: list[Path] = []
        for entry in entries:
            if is_litter(entry.name):
                continue
            path = Path(entry.path)
            try:
                if entry.is_dir():
                    subfolders.append(path)
                    continue
                is_file = entry.is_file()
            except OSError as exc:
                problems.append(Problem(P.UNREADABLE, str(path), f"cannot read ({_reason(exc)}); skipped"))
                continue
            if not is_file:
                if entry.is_symlink() and not os.path.exists(path):
                    problems.append(Problem(P.UNREADABLE, str(path), "broken link; skipped"))
                elif entry.is_symlink():
                    problems.append(Problem(P.NOT_AN_IMAGE, str(path), "link to something that is not a regular file "
                                            "(a pipe, socket or device); skipped"))
                elif is_image_name(entry.name):
                    # A named pipe or device would block or never end when read.
                    problems.append(Problem(P.NOT_AN_IMAGE, str(path), "not a regular file (a pipe, socket or device); skipped"))
                continue
            rel = path.relative_to(root).as_posix()
            if not is_image_name(entry.name):
                problems.append(Problem(P.NOT_AN_IMAGE, str(path), "not an image file type; skipped"))
                continue
            try:
                size = entry.stat().st_size
            except OSError as exc:
                problems.append(Problem(P.UNREADABLE, str(path), f"cannot read ({_reason(exc)}); skipped"))
                continue
            if size > MAX_IMAGE_BYTES:
                problems.append(Problem(P.TOO_LARGE, str(path), f"file is {size // 2**20} MiB, too large for an image here; skipped"))
                continue
            images.append(ImageRef(str(root), rel))
        stack.extend(reversed(subfolders))
        watch.tick(len(images))
        if images:
            classes[rel_folder if rel_folder != "." else root.name] = images
        elif not subfolders and folder != root:
            problems.append(Problem(P.EMPTY_CLASS, str(folder), "folder has no images; skipped"))
    if not classes and not any(p.kind == P.UNREADABLE_FOLDER and p.path == str(root) for p in problems):
        problems.append(Problem(P.EMPTY_CLASS, str(root), "no class folders with images found"))
    return classes


def _scan_zip(path: Path, problems: list[Problem], watch: _Watch) -> dict[str, list[ImageRef]]:
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (OSError, zipfile.BadZipFile) as exc:
        raise DataError(f"Cannot read zip file {path}: {_reason(exc)}") from exc
    # A zip that wraps everything in one top folder: that folder is the root.
    names = [i.filename for i in infos if not i.is_dir()]
    tops = {n.split("/", 1)[0] for n in names if "/" in n}
    strip = next(iter(tops)) + "/" if len(tops) == 1 and all("/" in n for n in names) else ""
    classes: dict[str, list[ImageRef]] = {}
    dirs_with_children: set[str] = set()
    declared_dirs: set[str] = set()
    added = 0  # images since the last report
    encrypted = 0
    seen: set[str] = set()
    for number, info in enumerate(infos):
        if number % 1000 == 999:
            watch.tick(added)
            added = 0
        name = info.filename
        if _climbs_out(name):
            problems.append(Problem(P.UNSAFE_PATH, f"{path}!{name}", "path leaves the zip's folder; skipped"))
            continue
        rel = name[len(strip):] if strip and name.startswith(strip) else name
        rel_path = PurePosixPath(rel.rstrip("/"))
        for parent in list(rel_path.parents)[:-1]:
            dirs_with_children.add(parent.as_posix())
        if info.is_dir():
            if rel.rstrip("/"):
                declared_dirs.add(rel.rstrip("/"))
            continue
        if any(is_litter(part) for part in rel_path.parts):
            continue
        if info.flag_bits & 0x1:  # encrypted: reading it needs a password the workbench does not have
            encrypted += 1
            problems.append(Problem(P.UNREADABLE, f"{path}!{name}", "encrypted (the zip has a password); skipped"))
            continue
        if not is_image_name(rel_path.name):
            problems.append(Problem(P.NOT_AN_IMAGE, f"{path}!{name}", "not an image file type; skipped"))
            continue
        refusal = _member_refusal(info)
        if refusal:
            problems.append(Problem(P.TOO_LARGE, f"{path}!{name}", refusal))
            continue
        if name in seen:  # a name stored twice (an appended-to zip) reads as one file: counted twice, it
            # could be both a support and a query image of one episode
            problems.append(Problem(P.UNREADABLE, f"{path}!{name}", "is in the zip more than once; read once"))
            continue
        seen.add(name)
        folder = rel_path.parent.as_posix()
        key = folder if folder != "." else path.stem
        classes.setdefault(key, []).append(ImageRef(str(path), name, in_zip=True))
        added += 1
    for folder in sorted(declared_dirs - dirs_with_children - set(classes)):
        problems.append(Problem(P.EMPTY_CLASS, f"{path}!{strip}{folder}", "folder has no images; skipped"))
    if not classes and encrypted:
        raise DataError(f"Cannot read zip file {path}: it is protected by a password ({encrypted} encrypted files). "
                        f"Unpack it with its password and choose the folder instead.")
    if not classes:
        problems.append(Problem(P.EMPTY_CLASS, str(path), "no class folders with images found in the zip"))
    return classes


def _member_refusal(info: zipfile.ZipInfo) -> str:
    """Why a zip member is not read (judged from its declared sizes alone), or ''."""
    if info.file_size > MAX_IMAGE_BYTES:
        return f"expands to {info.file_size // 2**20} MiB, too large for an image here; skipped"
    if info.file_size > RATIO_CHECK_BYTES and info.file_size > MAX_COMPRESSION_RATIO * max(info.compress_size, 1):
        ratio = info.file_size // max(info.compress_size, 1)
        return f"expands {ratio}-fold to {info.file_size // 2**20} MiB (a zip bomb?); skipped"
    return ""


def _read_member(archive: zipfile.ZipFile, member: str) -> bytes:
    info = archive.getinfo(member)
    refusal = _member_refusal(info)
    if refusal:
        raise ValueError(refusal)
    with archive.open(info) as handle:
        # Read one byte past the declared size: a lying header cannot make us read more.
        data = handle.read(MAX_IMAGE_BYTES + 1)
    if len(data) > MAX_IMAGE_BYTES:
        raise ValueError("member too large")
    return data


def read_many(refs: Iterable[ImageRef]):
    """Yield (ref, bytes or exception) for each ref, opening each zip only once."""
    open_zips: dict[str, zipfile.ZipFile] = {}
    try:
        for ref in refs:
            try:
                if ref.in_zip:
                    archive = open_zips.get(ref.source)
                    if archive is None:
                        archive = open_zips[ref.source] = zipfile.ZipFile(ref.source)
                    yield ref, _read_member(archive, ref.member)
                else:
                    yield ref, read_file_bounded(Path(ref.source) / ref.member)
            except Exception as exc:  # any failure to read one file is that file's problem
                yield ref, exc
    finally:
        for archive in open_zips.values():
            archive.close()


def _reason(exc: BaseException) -> str:
    if isinstance(exc, PermissionError):
        return "permission denied"
    if isinstance(exc, FileNotFoundError):
        return "it disappeared"
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return text


def _climbs_out(member: str) -> bool:
    """True for a zip member path that would land outside the zip's folder (zip-slip)."""
    parts = PurePosixPath(member.replace("\\", "/")).parts
    return member.startswith(("/", "\\")) or ".." in parts or (bool(parts) and ":" in parts[0])
