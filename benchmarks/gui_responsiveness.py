"""Does the window's event loop stay responsive while training runs in the background?

Opens the real main window (offscreen unless a display is set), creates the demo
glyph dataset, starts a ProtoNet training from the window as a user would
(5-way 1-shot, validation and episode predictions every 50 steps), and
measures the event loop with a QTimer firing every 5 ms: a stall is the time
between two ticks beyond those 5 ms. While it trains, the benchmark also
switches pages every two seconds (Dataset, Training, Runs, Inspect), as a user
looking around would. Goal: no stall over 30 ms.

With --open DIR it measures instead while the window opens a dataset: from
choosing the folder, through the background scan, to `--seconds` after the
classes are shown (the image check decodes every image meanwhile). With
--label DIR it opens DIR on the Label page and scrolls its grid from top to
bottom while the thumbnails load.

    .venv/bin/python benchmarks/gui_responsiveness.py               # 20 s of training
    .venv/bin/python benchmarks/gui_responsiveness.py --seconds 10
    .venv/bin/python benchmarks/gui_responsiveness.py --open DIR    # e.g. load_100k.py's dataset
    .venv/bin/python benchmarks/gui_responsiveness.py --label DIR   # a folder of images to label
    .venv/bin/python benchmarks/gui_responsiveness.py --label-photos 1000   # 1,000 160x160 JPEGs made here

Results: benchmarks/results/gui_responsiveness.json and one line on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

TICK_MS = 5


def machine() -> str:
    import torch

    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, {gpu}"


def make_photos(folder: Path, count: int) -> Path:
    """`count` JPEGs of colour noise: the slowest kind of photo to decode for its size."""
    import numpy as np
    from PIL import Image

    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(count):
        Image.fromarray(rng.integers(0, 256, (160, 160, 3), dtype=np.uint8)).save(folder / f"img_{i:04d}.jpg", quality=85)
    return folder


def start_watchdog(clock, last, measuring) -> None:
    """Every 10 ms, if the GUI thread has not ticked for 30 ms, print the innermost frames of its stack."""
    import threading
    import traceback

    main_id = threading.main_thread().ident

    def watch() -> None:
        seen = None
        while True:
            time.sleep(0.01)
            late = clock.nsecsElapsed() / 1e6 - last[0]
            if measuring[0] and late > 30 + TICK_MS and seen != last[0]:
                seen = last[0]
                frames = sys._current_frames()
                for ident, frame in frames.items():  # the GUI thread first; others may hold the GIL
                    if ident == threading.get_ident():
                        continue
                    where = " <- ".join(f"{Path(f.filename).name}:{f.lineno} {f.name}"
                                        for f in reversed(traceback.extract_stack(frame)[-6:]))
                    who = "GUI" if ident == main_id else f"thread {ident}"
                    print(f"stall {late:.0f} ms at t={last[0] / 1000:.2f}s, {who}: {where}", file=sys.stderr)

    threading.Thread(target=watch, daemon=True).start()

    import gc

    started = [0.0]

    def collection(phase, info) -> None:  # a garbage collection holds the GIL: report the long ones
        if phase == "start":
            started[0] = time.perf_counter()
        elif (took := (time.perf_counter() - started[0]) * 1000) > 20:
            print(f"garbage collection of generation {info['generation']} took {took:.0f} ms "
                  f"at t={clock.nsecsElapsed() / 1e9:.2f}s", file=sys.stderr)

    gc.callbacks.append(collection)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="how long to measure while training")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--idle", action="store_true",
                        help="measure the same window without training: the baseline the machine itself allows")
    parser.add_argument("--page", choices=("flip", "training", "dataset"), default="flip",
                        help="flip pages every 2 s (default), or keep one page in view the whole time")
    parser.add_argument("--open", metavar="DIR",
                        help="measure while the window scans and checks this dataset, instead of while training")
    parser.add_argument("--label", metavar="DIR",
                        help="measure while the Label page opens this folder and its grid is scrolled through")
    parser.add_argument("--label-photos", type=int, metavar="N",
                        help="as --label, on a folder of N random 160x160 JPEG photos made for the measurement")
    parser.add_argument("--diagnose", action="store_true",
                        help="print where the GUI thread was during each stall over 30 ms (a watchdog samples its stack)")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "gui_responsiveness.json"))
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="gui-responsiveness-"))
    if args.label_photos:
        args.label = str(make_photos(scratch / "to-label", args.label_photos))
    os.environ["FEWSHOT_WORKBENCH_SETTINGS"] = str(scratch / "settings.ini")
    from PySide6.QtCore import QElapsedTimer, QTimer

    from workbench.data.demo import make_demo_dataset
    from workbench.gui.app import make_application
    from workbench.gui.main_window import MainWindow
    from workbench.training.events import TrainStep

    data = None if args.open or args.label else make_demo_dataset(scratch / "demo", classes=100, images_per_class=20)
    app = make_application([])
    window = MainWindow(runs_root=scratch / "runs")
    window.show()
    if data is not None:
        window.data_panel.set_paths([str(data)])
        while window.scan_running:  # the scan runs on a thread; training starts from what it found
            app.processEvents()
            time.sleep(0.01)
    panel = window.protocol_panel
    panel.ways.setValue(5)
    panel.shots.setValue(1)
    panel.queries.setValue(5)
    panel.steps.setValue(1_000_000)
    panel.val_every.setValue(50)
    panel.val_episodes.setValue(20)
    panel.device.setCurrentIndex(panel.device.findData(args.device))
    window.algorithm_panel.set_algorithm("protonet")

    steps = []
    gaps: list[float] = []
    moments: list[float] = []  # when each gap began, seconds on the benchmark's clock
    clock = QElapsedTimer()
    last = [0.0]
    measuring = [False]

    def tick() -> None:
        now = clock.nsecsElapsed() / 1e6
        if measuring[0]:
            gaps.append(now - last[0])
            moments.append(last[0] / 1000)
        last[0] = now

    def on_event(event) -> None:
        if isinstance(event, TrainStep):
            steps.append(event.step)
            if len(steps) == 1:  # training has started: measure from now on
                measuring[0] = True
                last[0] = clock.nsecsElapsed() / 1e6
                QTimer.singleShot(int(args.seconds * 1000), stop)

    pages = [window.dataset_view, window.training_page, window.runs_page, window.inspect_page]
    flips = [0]

    def flip_page() -> None:
        if measuring[0] and args.page == "flip":
            flips[0] += 1
            window.tabs.setCurrentWidget(pages[flips[0] % len(pages)])

    def stop() -> None:
        measuring[0] = False
        window.stop_action.trigger()  # as the Stop button does

    if args.page != "flip":
        window.tabs.setCurrentWidget(window.training_page if args.page == "training" else window.dataset_view)
    timer = QTimer()
    timer.setInterval(TICK_MS)
    timer.timeout.connect(tick)
    pager = QTimer()
    pager.setInterval(2000)
    pager.timeout.connect(flip_page)
    clock.start()
    timer.start()
    pager.start()
    load_before = os.getloadavg()[0]
    scan_seconds = [None]
    if args.open:
        measuring[0] = True
        last[0] = clock.nsecsElapsed() / 1e6
        opened = clock.nsecsElapsed() / 1e9

        def scanned() -> None:
            if window.scan_running:
                QTimer.singleShot(10, scanned)
                return
            scan_seconds[0] = round(clock.nsecsElapsed() / 1e9 - opened, 2)
            QTimer.singleShot(int(args.seconds * 1000), app.quit)

        window.data_panel.set_paths([args.open])
        QTimer.singleShot(10, scanned)
        QTimer.singleShot(int((args.seconds + 600) * 1000), app.quit)  # a scan that never ends: give up
    elif args.label:
        measuring[0] = True
        last[0] = clock.nsecsElapsed() / 1e6
        window.tabs.setCurrentWidget(window.label_page)
        pager.stop()
        window.label_page.open_folder(args.label)
        scrollbar = window.label_page.grid.verticalScrollBar()
        scroller = QTimer()
        scroller.setInterval(100)  # a person dragging the scroll bar down, a step every 100 ms

        def scroll() -> None:
            scrollbar.setValue(scrollbar.value() + max(1, scrollbar.maximum() // max(1, int(args.seconds * 5))))

        scroller.timeout.connect(scroll)
        scroller.start()
        QTimer.singleShot(int(args.seconds * 1000), app.quit)
    elif args.idle:
        measuring[0] = True
        last[0] = clock.nsecsElapsed() / 1e6
        QTimer.singleShot(int(args.seconds * 1000), app.quit)
    else:
        window.start_training()
        if window.training is None:
            print("error: training did not start:", window.banner.text, file=sys.stderr)
            return 1
        window.training.worker.progressed.connect(on_event)  # the runner's events, on the GUI thread
        window.training.worker.finished.connect(app.quit)
        QTimer.singleShot(int((args.seconds + 180) * 1000), app.quit)  # data loading stuck: give up
    if args.diagnose:
        start_watchdog(clock, last, measuring)
    app.exec()  # the real event loop, as a user has it
    timer.stop()
    pager.stop()
    window.close()  # also stops the image check of an opened dataset

    stalls = sorted(max(0.0, g - TICK_MS) for g in gaps)
    p99 = stalls[int(0.99 * (len(stalls) - 1))] if stalls else float("nan")
    result = {
        "machine": machine(),
        "seconds": args.seconds,
        "training": not (args.idle or args.open or args.label),
        "pages": args.page,
        "opened": args.open,
        "labelling_folder": args.label,
        "images_to_label": len(window.label_page.session.images) if args.label and window.label_page.session else None,
        "scan_seconds_in_window": scan_seconds[0],
        "classes_shown": len(window.scan.classes) if args.open and window.scan else None,
        "device": args.device,
        "ticks": len(gaps),
        "train_steps": len(steps),
        "steps_per_s": round(len(steps) / args.seconds, 1) if steps else 0.0,
        "max_stall_ms": round(stalls[-1], 1) if stalls else None,
        "p99_stall_ms": round(p99, 1),
        "stalls_over_30ms": sum(1 for s in stalls if s > 30),
        "worst_stalls_ms_at_s": [[round(g - TICK_MS, 1), round(t, 2)]
                                 for g, t in sorted(zip(gaps, moments), reverse=True)[:5]],
        "torch_threads": __import__("torch").get_num_threads(),
        "load_average_1min_at_start": load_before,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
