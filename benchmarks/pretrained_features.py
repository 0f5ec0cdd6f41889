"""How well frozen ImageNet EfficientNet-Lite0 features separate unseen Omniglot characters, and how fast they are.

Reads the three alphabets of images_background_small2.zip that the other minimal set lacks
(Japanese (katakana), Sanskrit, Tagalog: 106 characters, 2,120 images), decoded as a run decodes
them (grayscale, `--decode` pixels), computes the features of every image once per setting
(network input side x polarity) and scores nearest class mean on the same episodes for every
setting: 5-way 1-shot drawn across the three alphabets, and 20-way 1-shot within one alphabet
(Lake et al.'s protocol); `--per-class` images of each character take part (1 support, the rest
queries), to keep the CPU time of the 224-pixel rows to minutes. Nearest neighbour on the raw pixels is the baseline.
Speed: images per second through the network at each input side, float32 and bfloat16 autocast.

    python benchmarks/pretrained_features.py [--episodes 100] [--sizes 84 112 224] [--decode 28]

Writes benchmarks/results/pretrained_features.json. Needs ../shared/data/omniglot.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._omniglot import OMNIGLOT, machine  # noqa: E402
from workbench.data.cache import build_cache  # noqa: E402
from workbench.data.pixels import to_model_pixels  # noqa: E402
from workbench.data.sources import scan_datasets  # noqa: E402
from workbench.models.feature_cache import compute_features  # noqa: E402
from workbench.models.pretrained import pretrained_feature_extractor  # noqa: E402

ALPHABETS = ("Japanese_(katakana)", "Sanskrit", "Tagalog")


def episodes(groups: list[str], count: int, ways: int, within: bool, per_class: int,
             seed: int) -> list[tuple[list[int], list[int]]]:
    """(classes, per-class image order) draws; shared by every setting so the rows compare like for like."""
    rng = np.random.default_rng(seed)
    classes = np.arange(len(groups))
    drawn = []
    for _ in range(count):
        pool = classes
        if within:
            alphabet = rng.choice(sorted({g for g in groups if groups.count(g) >= ways}))
            pool = classes[np.asarray(groups) == alphabet]
        chosen = rng.choice(pool, ways, replace=False)
        drawn.append((chosen.tolist(), [rng.permutation(per_class).tolist() for _ in chosen]))
    return drawn


def score(features: torch.Tensor, draws, cosine: bool) -> tuple[float, float]:
    """Mean accuracy of nearest class mean (1 shot: nearest support image) and its 95% half-width."""
    if cosine:
        features = torch.nn.functional.normalize(features, dim=1)
    accuracies = []
    for chosen, orders in draws:
        per_class = len(orders[0])
        rows = [[c * per_class + i for i in order] for c, order in zip(chosen, orders)]
        support = features[[r[0] for r in rows]]
        query = features[[i for r in rows for i in r[1:]]]
        truth = torch.arange(len(chosen)).repeat_interleave(per_class - 1)
        predicted = torch.cdist(query, support).argmin(dim=1)
        accuracies.append((predicted == truth).float().mean().item())
    values = np.asarray(accuracies)
    return float(values.mean()), float(1.96 * values.std(ddof=1) / np.sqrt(len(values)))


def speed(size: int, bf16: bool, images: torch.Tensor, repeats: int = 3) -> float:
    """Images per second through the frozen network at input side `size`: the best of `repeats` passes.

    The best pass, because on a shared machine the slower ones measure the neighbours' load.
    """
    extractor = pretrained_feature_extractor(size)
    compute_features(extractor, images[:16], bf16=bf16)  # warm-up: first-call allocations and kernel choice
    best = float("inf")
    for _ in range(repeats):
        begin = time.perf_counter()
        compute_features(extractor, images, bf16=bf16)
        best = min(best, time.perf_counter() - begin)
    return len(images) / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--episodes", type=int, default=100)
    parser.add_argument("--sizes", type=int, nargs="+", default=[84, 112, 224])
    parser.add_argument("--decode", type=int, default=28, help="side the images are decoded at (a run's image size)")
    parser.add_argument("--per-class", type=int, default=6, help="images per character used (1 support + queries)")
    parser.add_argument("--bf16", action="store_true", help="also score bfloat16 autocast features")
    parser.add_argument("--speed-images", type=int, default=128)
    parser.add_argument("--speed-only", action="store_true", help="measure images per second only")
    args = parser.parse_args()
    zip_path = OMNIGLOT / "images_background_small2.zip"
    if not zip_path.exists():
        sys.exit(f"error: {zip_path} is absent (../shared/data/omniglot)")
    scan = scan_datasets([zip_path])
    scan.classes = [c for c in scan.classes if c.group in ALPHABETS and len(c.images) == 20]
    cache = build_cache(scan, args.decode, 1)
    # The first images of each class, so class c's images are rows per_class * c onwards.
    pixels = cache.gather(np.concatenate([rows[: args.per_class] for rows in cache.class_images]))
    groups = list(cache.class_groups)
    draws = {"5-way 1-shot": episodes(groups, args.episodes, 5, False, args.per_class, 0),
             "20-way 1-shot within alphabet": episodes(groups, args.episodes, 20, True, args.per_class, 1)}
    rows = []

    def record(name: str, features: torch.Tensor, seconds: float | None = None) -> None:
        for metric in ("euclidean", "cosine"):
            row = {"features": name, "metric": metric}
            for case, drawn in draws.items():
                accuracy, half_width = score(features, drawn, metric == "cosine")
                row[case] = f"{100 * accuracy:.1f} ± {100 * half_width:.1f}"
            if seconds is not None:
                row["ms per image (all images)"] = round(1000 * seconds / len(features), 2)
            rows.append(row)
            print(json.dumps(row), flush=True)

    for invert in () if args.speed_only else (False, True):
        images = to_model_pixels(pixels, invert)
        record(f"raw pixels {args.decode}x{args.decode}{' inverted' if invert else ''}", images.flatten(1))
        for size in args.sizes:
            for bf16 in (False, True) if args.bf16 else (False,):
                extractor = pretrained_feature_extractor(size)
                begin = time.perf_counter()
                features = compute_features(extractor, images, bf16=bf16)
                name = f"lite0 {size}px{' inverted' if invert else ''}{' bf16' if bf16 else ''}"
                record(name, features, time.perf_counter() - begin)
    sample = to_model_pixels(pixels[:: max(1, len(pixels) // args.speed_images)][: args.speed_images])
    throughput = {f"{size}px {'bf16' if bf16 else 'fp32'}": round(speed(size, bf16, sample), 1)
                  for size in args.sizes for bf16 in (False, True)}
    print(json.dumps({"images per second": throughput}), flush=True)
    result = {"machine": f"{machine()} (shared with other work while measured)", "threads": torch.get_num_threads(),
              "alphabets": ALPHABETS, "decode": args.decode, "episodes": args.episodes, "images per class": args.per_class,
              "rows": rows, "images per second": throughput}
    out = Path(__file__).resolve().parent / "results" / f"pretrained_features{'_speed' if args.speed_only else ''}.json"
    out.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
