"""Label page latency: the time from pressing Adapt to predictions for every unlabelled image.

A folder of 200 glyph images at 28x28 (drawn like tests/synthetic.py), 10 of them
labelled in 5 classes; the model is a Conv4 ProtoNet (and MAML) on CPU. The one-off
decoding of the folder is cached by the Adapter and excluded, as on the page, where
it happens once when a folder is opened. Each repeat runs `Adapter.predict`
(adapt to the labels + predict_proba on the 190 others) and times it. For ProtoNet
the Adapter caches each image's embedding once per model (the embedding does not
depend on the labels), so a repeat is class means + distances; the generic path
(Algorithm.adapt + predict_proba, which every other algorithm takes) is timed too.

    .venv/bin/python benchmarks/label_latency.py                   # both
    .venv/bin/python benchmarks/label_latency.py --algorithms protonet --repeats 200 --threads 1
    .venv/bin/python benchmarks/label_latency.py --page             # also on the real Label page

Prints a Markdown table (median, p95) and writes benchmarks/results/label_latency.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from tests.synthetic import make_glyph_dataset  # noqa: E402
from workbench import catalogue  # noqa: E402
from workbench.labelling.adapter import Adapter  # noqa: E402
from workbench.labelling.session import LabelSession  # noqa: E402


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    cores = os.cpu_count()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    # The load average says whether other work shared the cores (then p95 mostly measures the scheduler).
    return (f"{cpu}, {cores} cores, {torch.get_num_threads()} torch thread(s), torch {torch.__version__}, "
            f"load average {load:.1f} at start")


def measure(algorithm_name: str, folder: Path, repeats: int, feature_cache: bool, labelled_per_class: int = 2) -> dict:
    session = LabelSession.open_folder(folder)
    algorithm = catalogue.get(algorithm_name)(1, 28, {}, "cpu", "fp32")
    algorithm.train_mode(False)
    adapter = Adapter(algorithm, 28, 1)
    adapter.uses_feature_cache = adapter.uses_feature_cache and feature_cache
    start = time.perf_counter()
    adapter.load_images(session.folder, session.images)
    decode_s = time.perf_counter() - start
    start = time.perf_counter()
    adapter.embed_all()  # ProtoNet: each image's embedding, once per model (a no-op otherwise)
    embed_s = time.perf_counter() - start
    # Label the first images of each class folder (a person labelling a few).
    labels: dict[str, str] = {}
    for path in session.images:
        cls = path.split("/")[-2]
        if sum(1 for v in labels.values() if v == cls) < labelled_per_class:
            labels[path] = cls
    classes = sorted(set(labels.values()))
    targets = [p for p in session.images if p not in labels]
    for _ in range(3):  # warm-up: first calls allocate and pick kernels
        adapter.predict(labels, classes, targets)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = adapter.predict(labels, classes, targets)
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return {
        "algorithm": algorithm_name,
        "path": "cached embeddings" if adapter.uses_feature_cache else "adapt + predict_proba",
        "images": len(session.images),
        "labelled": len(labels),
        "predicted": len(result.predictions),
        "median_ms": round(statistics.median(times), 2),
        "p95_ms": round(times[min(len(times) - 1, int(0.95 * len(times)))], 2),
        "decode_once_ms": round(decode_s * 1000, 1),
        "embed_once_ms": round(embed_s * 1000, 1) if adapter.uses_feature_cache else None,
        "repeats": repeats,
    }


def measure_page(algorithm_name: str, folder: Path, repeats: int) -> dict:
    """The same on the real Label page (offscreen): from `adapt()` to predictionsUpdated, i.e. the worker
    thread hop, the adapt, and the grid model updated with the predictions."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QEventLoop, QTimer

    from workbench.gui.app import make_application
    from workbench.gui.labelling import LabelPage

    app = make_application([])
    page = LabelPage()
    page.resize(1200, 800)
    page.show()
    page.auto_adapt.setChecked(False)
    page.open_folder(str(folder))
    classes = sorted({p.split("/")[-2] for p in page.session.images})
    for name in classes:
        page.add_class(name)
    for name in classes:
        page.label_paths(name, [p for p in page.session.images if p.split("/")[-2] == name][:2])
    algorithm = catalogue.get(algorithm_name)(1, 28, {}, "cpu", "fp32")
    page.set_model(algorithm, 28, 1)

    def wait(condition, timeout_s=120.0) -> None:
        deadline = time.perf_counter() + timeout_s
        while not condition():
            if time.perf_counter() > deadline:
                raise TimeoutError("the page did not answer")
            app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 5)

    wait(lambda: page.images_ready)
    times = []
    done = []
    page.predictionsUpdated.connect(lambda: done.append(time.perf_counter()))
    for i in range(repeats + 3):
        start = time.perf_counter()
        page.adapt()
        wait(lambda i=i: len(done) > i)
        if i >= 3:
            times.append((done[-1] - start) * 1000)
    page.shutdown()
    page.close()
    QTimer.singleShot(0, lambda: None)
    times.sort()
    return {
        "algorithm": algorithm_name,
        "path": "Label page, Adapt to predictions shown",
        "images": len(page.session.images),
        "labelled": len(page.session.labels),
        "predicted": len(page.session.predictions),
        "median_ms": round(statistics.median(times), 2),
        "p95_ms": round(times[min(len(times) - 1, int(0.95 * len(times)))], 2),
        "decode_once_ms": None,
        "embed_once_ms": None,
        "repeats": repeats,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--algorithms", nargs="+", default=["protonet", "maml"])
    parser.add_argument("--repeats", type=int, default=50, help="repeats of the cached-embedding path")
    parser.add_argument("--slow-repeats", type=int, default=10,
                        help="repeats of the generic adapt + predict_proba path (MAML, ProtoNet uncached)")
    parser.add_argument("--page", action="store_true", help="also time the real Label page (ProtoNet, offscreen Qt)")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "label_latency.json"))
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    where = machine()  # before the page's app setup, which leaves a core to the GUI thread
    with tempfile.TemporaryDirectory() as tmp:
        # 5 classes x 40 images = 200 images at 28x28.
        folder = make_glyph_dataset(Path(tmp) / "unlabelled", groups=1, classes_per_group=5, images_per_class=40)
        results = []
        for name in args.algorithms:
            cached = name == "protonet"
            results.append(measure(name, folder, args.repeats if cached else args.slow_repeats, feature_cache=True))
            print(f"{name}: {results[-1]['median_ms']} ms median", file=sys.stderr, flush=True)
            if cached:  # also the generic path every other algorithm takes
                results.append(measure(name, folder, args.slow_repeats, feature_cache=False))
                print(f"{name} uncached: {results[-1]['median_ms']} ms median", file=sys.stderr, flush=True)
        if args.page:
            results.append(measure_page("protonet", folder, args.repeats))
            print(f"page: {results[-1]['median_ms']} ms median", file=sys.stderr, flush=True)
    report = {"machine": where, "results": results}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
    print(f"Machine: {report['machine']}\n")
    print("| algorithm | path | images | labelled | median ms | p95 ms | one-off decode ms | one-off embed ms |")
    print("|---|---|---|---|---|---|---|---|")
    for r in results:
        decode = "—" if r["decode_once_ms"] is None else r["decode_once_ms"]
        embed = "—" if r["embed_once_ms"] is None else r["embed_once_ms"]
        print(f"| {r['algorithm']} | {r['path']} | {r['images']} | {r['labelled']} | {r['median_ms']} | {r['p95_ms']} "
              f"| {decode} | {embed} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
