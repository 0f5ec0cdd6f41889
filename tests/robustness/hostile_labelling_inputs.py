"""What the second round of hostile labelling tests plant: session files, link loops, trees too wide or too
deep to walk, spoiled evaluations, and the code of the child processes that race or are killed."""

from __future__ import annotations

import json
import os
from pathlib import Path

from workbench.labelling.listing import LIST_ENTRY_LIMIT


def session_json(folder: str, classes=("cat", "dog"), labels=(), threshold=0.9) -> dict:
    return {"format": "fewshot-workbench-labelling", "version": 1, "folder": folder, "classes": list(classes),
            "threshold": threshold, "model_run_dir": None,
            "labels": [{"path": path, "class": name, "source": "human", "confidence": None} for path, name in labels]}


def write_session(path: Path, data: dict | str) -> Path:
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


def link_loop(folder: Path, name: str = "loop") -> Path:
    """`folder/name` -> `folder/name_b` -> `folder/name`: a path that never arrives anywhere."""
    os.symlink(folder / f"{name}_b", folder / name)
    os.symlink(folder / name, folder / f"{name}_b")
    return folder / name


def wide_tree(parent: Path) -> Path:
    """More than LIST_ENTRY_LIMIT empty files named like images under `parent`, 1000 to a folder."""
    root = parent / "wide"
    root.mkdir()
    count = 0
    for group in range(LIST_ENTRY_LIMIT // 1000 + 1):
        sub = root / f"d{group:04d}"
        sub.mkdir()
        for i in range(1000):
            os.close(os.open(sub / f"img_{i:04d}.png", os.O_CREAT | os.O_WRONLY, 0o644))
        count += 1001
    assert count > LIST_ENTRY_LIMIT
    return root


DEPTH = 1500  # past Python's recursion limit: os.walk recursed (RecursionError), as do mkdir -p and rmtree


def deep_tree(folder: Path) -> Path:
    """DEPTH nested folders 'd' under `folder`, made one level at a time; the deepest folder."""
    fd = os.open(folder, os.O_RDONLY)
    for _ in range(DEPTH):
        os.mkdir("d", dir_fd=fd)
        fd, parent = os.open("d", os.O_RDONLY, dir_fd=fd), fd
        os.close(parent)
    os.close(fd)
    return Path(str(folder) + "/d" * DEPTH)


def remove_deep_tree(folder: Path) -> None:
    """Remove what deep_tree made, deepest first (pytest's own clean-up of tmp_path would recurse too deep)."""
    for depth in range(DEPTH, 0, -1):
        level = str(folder) + "/d" * depth
        for name in os.listdir(level):
            if name != "d":
                os.unlink(f"{level}/{name}")
        os.rmdir(level)


SWAP_CHILD = """
import os
folder = {folder!r}
os.replace(os.path.join(folder, "img_01.png"), os.path.join(folder, ".kept_01"))
os.mkfifo(os.path.join(folder, "img_01.png"))
os.replace(os.path.join(folder, "img_02.png"), os.path.join(folder, ".kept_02"))
os.symlink("/dev/zero", os.path.join(folder, "img_02.png"))
print("swapped", flush=True)
"""


def spoil(data: dict, how: str) -> None:
    first = data["mistakes"][0]
    if how == "a mistake that is a number":
        data["mistakes"] = [1]
    elif how == "confusion rows shorter than the classes":
        data["confusion"] = [[0]]
    elif how == "text where an accuracy goes":
        data["per_class"][0]["accuracy"] = "high"
    elif how == "an episode predicting class 99 of 2":
        data["episodes"][0]["predicted"] = [99] * len(data["episodes"][0]["predicted"])
    elif how == "100,000 mistakes":
        data["mistakes"] = [dict(first, query_path=f"/x/{i}.png") for i in range(100_000)]
    elif how == "100,000 support images beside a mistake":
        first["true_support"], first["true_support_paths"] = [0] * 100_000, [first["query_path"]] * 100_000


EXPORT_WHEN_TOLD = """
import os, sys, time
from workbench.labelling.export import export_to_class_folders
from workbench.labelling.session import Label, LabelSession
session = LabelSession.open_folder({source!r})
session.classes, session.labels = ["a"], {{path: Label("a") for path in session.images}}
print("ready", flush=True)
while not os.path.exists({go!r}):
    time.sleep(0.001)
report = export_to_class_folders(session, {target!r})
print(len(report.done), len(report.failed), flush=True)
"""


MOVE_CHILD = """
import pathlib, time
from workbench.labelling.export import export_to_class_folders
from workbench.labelling.session import Label, LabelSession
source = pathlib.Path({source!r})
real_unlink = pathlib.Path.unlink
moved = []
def unlink_then_stall(self, *args, **kwargs):
    if self.parent == source:  # an original, its copy complete: the move's second write
        moved.append(self.name)
        if len(moved) == {stop_at}:
            print("copied", flush=True)
            time.sleep(600)
    return real_unlink(self, *args, **kwargs)
pathlib.Path.unlink = unlink_then_stall
session = LabelSession.open_folder(source)
session.classes, session.labels = ["a"], {{path: Label("a") for path in session.images}}
export_to_class_folders(session, {target!r}, move=True)
"""


SAVE_CHILD = """
import os, time
from workbench.labelling.session import Label, LabelSession
from workbench.labelling.session_file import save_session
real_fsync = os.fsync
def fsync_then_stall(fd):
    print("written", flush=True)  # the new session is in a temporary file, not yet renamed over the old one
    time.sleep(600)
os.fsync = fsync_then_stall
images = [f"img_{{i:05d}}.png" for i in range(20_000)]
session = LabelSession({folder!r}, images, ["new"], {{p: Label("new") for p in images}})
save_session(session, {target!r})
"""
