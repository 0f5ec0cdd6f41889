"""Load benchmark: 100 000 small images in 2 000 classes — scan, decode, sample, peak memory, with and without a cache cap.

    python benchmarks/load_100k.py                    # generate into a temp folder, measure, print and save JSON
    python benchmarks/load_100k.py --data DIR         # reuse a dataset generated before (--keep)
    python benchmarks/load_100k.py --cap-mb 16 --episodes 300

Each measurement runs in a fresh process so its peak RSS is its own. Then the
real window opens the same folder (gui_responsiveness.py --open, skipped with
--no-window or without PySide6): the scan and the image check run on threads,
and the longest stall of the window's event loop is recorded. Results go to
benchmarks/results/load_100k.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from multiprocessing import Pool
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _write_class(job: tuple[str, int, int, int]) -> None:
    import numpy as np
    from PIL import Image

    folder, index, count, size = job
    rng = np.random.default_rng(index)
    base = rng.random((size, size)) < 0.3
    Path(folder).mkdir(parents=True, exist_ok=True)
    for i in range(count):
        noise = rng.random((size, size)) < 0.04
        Image.fromarray(((base ^ noise) * 255).astype(np.uint8), mode="L").save(f"{folder}/{i:03d}.png", optimize=False)


def generate(root: Path, images: int, classes: int, size: int) -> float:
    started = time.perf_counter()
    per_class = images // classes
    jobs = [(str(root / f"group_{c // 100:02d}" / f"class_{c:04d}"), c, per_class, size) for c in range(classes)]
    with Pool(os.cpu_count() or 1) as pool:
        pool.map(_write_class, jobs, chunksize=16)
    return time.perf_counter() - started


def measure(data: str, cap_mb: float, size: int, episodes: int) -> dict:
    """Runs in a child process: scan, decode, sample; reports times and this process's peak RSS."""
    import torch

    from workbench.data.cache import build_cache
    from workbench.data.sampler import EpisodeSampler
    from workbench.data.sources import scan_datasets
    from workbench.data.splits import class_views

    torch.set_num_threads(1)
    rss_start = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t0 = time.perf_counter()
    scan = scan_datasets([data])
    t1 = time.perf_counter()
    cache = build_cache(scan, size, 1, max_bytes=int(cap_mb * 2**20) or None)
    t2 = time.perf_counter()
    sampler = EpisodeSampler(cache, class_views(range(cache.num_classes), False), 5, 1, 15, seed=0)
    for _ in range(10):
        sampler.sample()
    t3 = time.perf_counter()
    for _ in range(episodes):
        sampler.sample()
    t4 = time.perf_counter()
    return {
        "cap_mb": cap_mb,
        "classes": cache.num_classes,
        "images": cache.image_count,
        "problems": len(cache.problems),
        "scan_s": round(t1 - t0, 2),
        "decode_s": round(t2 - t1, 2),
        "decode_images_per_s": round(cache.image_count / (t2 - t1)),
        "episodes_per_s": round(episodes / (t4 - t3), 1),
        "episode": "5-way 1-shot 15-query",
        "cache_mb_held": round(cache.nbytes() / 2**20, 1),
        "cache_mb_peak": round((cache.store.peak_bytes if cache.capped else cache.nbytes()) / 2**20, 1),
        "reloads": cache.store.reloads if cache.capped else 0,
        "rss_after_imports_mb": round(rss_start),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def measure_window(data: str, seconds: float) -> dict | None:
    """The window opening `data`: how long until its classes are shown, and its longest event-loop stall."""
    try:
        import PySide6  # noqa: F401
    except ImportError:
        print("PySide6 is not installed: the window measurement is skipped", file=sys.stderr)
        return None
    out_file = Path(tempfile.mkdtemp(prefix="load100k-window-")) / "window.json"
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "gui_responsiveness.py"), "--open", data,
                    "--seconds", str(seconds), "--out", str(out_file)], check=True,
                   env={**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen")})
    row = json.loads(out_file.read_text())
    print(json.dumps(row), file=sys.stderr)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=100_000)
    parser.add_argument("--classes", type=int, default=2_000)
    parser.add_argument("--size", type=int, default=28, help="image side in pixels (generated and decoded)")
    parser.add_argument("--cap-mb", type=float, default=16.0, help="the cache cap to compare with no cap")
    parser.add_argument("--episodes", type=int, default=300)
    parser.add_argument("--data", help="an existing generated dataset (skip generation)")
    parser.add_argument("--keep", action="store_true", help="keep the generated dataset and print its path")
    parser.add_argument("--no-window", action="store_true", help="skip opening the dataset in the window")
    parser.add_argument("--window-seconds", type=float, default=10.0,
                        help="how long to keep measuring the window after the classes are shown")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.cap_mb, args.size, args.episodes)))
        return

    tmp = None
    data = args.data
    generation_s = None
    if not data:
        tmp = tempfile.mkdtemp(prefix="load100k-")
        data = str(Path(tmp) / "data")
        generation_s = round(generate(Path(data), args.images, args.classes, args.size), 1)
        print(f"generated {args.images} images in {args.classes} classes in {generation_s} s", file=sys.stderr)
    results = []
    try:
        for cap in (0.0, args.cap_mb):
            out = subprocess.run([sys.executable, __file__, "--measure", data, "--cap-mb", str(cap), "--size",
                                  str(args.size), "--episodes", str(args.episodes)], capture_output=True, text=True,
                                 check=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
            row = json.loads(out.stdout.strip().splitlines()[-1])
            results.append(row)
            print(json.dumps(row), file=sys.stderr)
        window = None if args.no_window else measure_window(data, args.window_seconds)
    finally:
        if tmp and not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
        elif tmp:
            print(f"dataset kept in {data}", file=sys.stderr)
    report = {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, {platform.platform()}",
        "python": platform.python_version(),
        "generation_s": generation_s,
        "results": results,
        "window": window,
    }
    (ROOT / "benchmarks" / "results").mkdir(parents=True, exist_ok=True)
    (ROOT / "benchmarks" / "results" / "load_100k.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
