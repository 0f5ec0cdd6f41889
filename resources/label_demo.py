"""Open the app on the Label tab with a demo folder labelled a little and a model adapted (for screenshots).

    .venv/bin/python resources/label_demo.py --prepare /tmp/label-demo      # draw images, train ProtoNet briefly
    .venv/bin/python resources/label_demo.py /tmp/label-demo                # open the window in that state
    .venv/bin/python resources/label_demo.py /tmp/label-demo audit          # ... with one ring labelled "cross"
    .venv/bin/python resources/label_demo.py /tmp/label-demo builtin        # ... with the built-in model, no run

The images are procedurally drawn glyphs (tests/synthetic.py), so no data or network is needed.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CLASSES = ("ring", "cross", "zigzag")


def prepare(root: Path) -> None:
    from tests.synthetic import make_glyph_dataset
    from workbench.data.splits import SplitSpec
    from workbench.runs.config import RunConfig
    from workbench.training.runner import train_run

    glyphs = make_glyph_dataset(root / "glyphs", groups=3, classes_per_group=8, images_per_class=20, seed=3)
    folder = root / "unlabelled"
    folder.mkdir(parents=True, exist_ok=True)
    number = 0
    for i in range(16):  # interleaved, as a camera roll would be
        for c in range(4):
            shutil.copy(glyphs / "group_2" / f"class_{c:02d}" / f"img_{i:02d}.png", folder / f"scan_{number:03d}.png")
            number += 1
    config = RunConfig(data=[str(glyphs)], algorithm="protonet", ways=5, shots=1, queries=5, steps=150,
                       val_every=50, val_episodes=10, device="cpu", precision="fp32", train_ways=10,
                       split=SplitSpec("group", val_fraction=0.2, test_groups=("group_2",)), seed=0)
    for event in train_run(config, root / "protonet-glyphs"):
        pass
    print(f"{folder} and {root / 'run'} ready ({event.message})")


def show(root: Path, theme: str = "light", size: tuple[int, int] = (1420, 860), audit: bool = False,
         builtin: bool = False) -> int:
    import os

    os.environ.setdefault("FEWSHOT_WORKBENCH_SETTINGS", str(root / "settings.ini"))  # not the user's own
    from PySide6.QtCore import QTimer

    from workbench.gui.app import make_application
    from workbench.gui.main_window import MainWindow
    from workbench.labelling.suggestions import accept_predictions

    app = make_application(sys.argv[:1])
    window = MainWindow(runs_root=root)
    window.set_theme(theme)
    window.resize(*size)
    window.show()
    window.tabs.setCurrentWidget(window.label_page)
    page = window.label_page
    from workbench.gui.labelling.autosave import autosave_paths

    for autosave in autosave_paths(str(root / "unlabelled")):  # the demo's labels are made afresh below
        autosave.unlink(missing_ok=True)
    page.open_folder(str(root / "unlabelled"))
    for name in CLASSES:
        page.add_class(name)
    for c, name in enumerate(CLASSES):  # two images of each of the first three glyphs
        page.label_paths(name, [f"scan_{c:03d}.png", f"scan_{c + 4:03d}.png"])
    if audit:  # a slip of the hand: a third ring labelled "cross", for the label audit to flag
        page.label_paths("cross", ["scan_008.png"])
    if not builtin:  # else the built-in model the page opened the folder with
        page.load_run(str(root / "protonet-glyphs"))

    def accept_two() -> None:  # two predictions accepted by hand show the ✓ badge
        page.predictionsUpdated.disconnect(accept_two)
        page.push(accept_predictions(page.session, 0.0, ["scan_007.png", "scan_009.png"]))
        page.predictionsUpdated.connect(suggest)

    def suggest() -> None:
        page.predictionsUpdated.disconnect(suggest)
        page.suggest(4)
        page.ui.images.grid.scrollToTop()

    page.predictionsUpdated.connect(accept_two)
    QTimer.singleShot(60_000, app.quit)
    return app.exec()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--prepare", action="store_true")
    parser.add_argument("extra", nargs="*", help="'dark' and/or a window size WxH, as window_state.py takes; "
                                                 "'audit': one image labelled wrongly; 'builtin': no run")
    args = parser.parse_args()
    if args.prepare:
        prepare(args.root)
        return 0
    sizes = [tuple(int(n) for n in a.split("x")) for a in args.extra if "x" in a]
    return show(args.root, "dark" if "dark" in args.extra else "light", sizes[0] if sizes else (1420, 860),
                "audit" in args.extra, "builtin" in args.extra)


if __name__ == "__main__":
    raise SystemExit(main())
