"""How fast a network encodes images for each number of images per pass (inference, no batch statistics).

Conv4 in eval mode, channels-last, encodes the same 1,024 random images (28x28 one channel and
84x84 three channels) in passes of each size, fp32 and bf16 autocast; the best of 5 repeats, in ms
per 1,024 images. On a CPU small passes win (their activations stay in the caches); the workbench's
choice, `workbench.models.pass_size.images_per_pass`, is shown beside the table. With `--pretrained`,
also the frozen EfficientNet-Lite0 (fp32, each image resized to 224 inside) on 128 images of 84x84x3,
beside the pass the pretrained adapt space uses.

    .venv/bin/python benchmarks/inference_pass_size.py [--threads 2] [--pretrained]

Results go to benchmarks/results/inference_pass_size.json with the machine; a Markdown table on stdout.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from benchmarks._omniglot import cpu_name  # noqa: E402
from workbench.models.conv4 import Conv4  # noqa: E402
from workbench.models.pass_size import images_per_pass  # noqa: E402

SIZES = (8, 16, 32, 64, 128, 256, 512)
IMAGES = 1024


def time_passes(net, images: torch.Tensor, size: int, bf16: bool, repeats: int) -> float:
    best = float("inf")
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        net(images[:size])  # warm-up
        for _ in range(repeats):
            began = time.perf_counter()
            for start in range(0, len(images), size):
                net(images[start:start + size])
            best = min(best, time.perf_counter() - began)
    return best * 1000


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--pretrained", action="store_true", help="also the frozen EfficientNet-Lite0 (needs its package)")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "inference_pass_size.json")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.set_flush_denormal(True)
    rows = []
    for channels, side in ((1, 28), (3, 84)):
        net = Conv4(channels, side).eval().to(memory_format=torch.channels_last)
        images = torch.rand(IMAGES, channels, side, side).contiguous(memory_format=torch.channels_last)
        for precision in ("fp32", "bf16"):
            ms = {size: round(time_passes(net, images, size, precision == "bf16", a.repeats), 1) for size in SIZES}
            rows.append({"image": f"{side}x{side}x{channels}", "precision": precision, "ms_per_1024": ms,
                         "chosen": images_per_pass(images, "cpu")})
            print(json.dumps(rows[-1]), flush=True)
    if a.pretrained:
        from workbench.adaptation.pretrained_space import IMAGES_PER_PASS
        from workbench.models.pretrained import pretrained_feature_extractor

        net, images = pretrained_feature_extractor(224).eval(), torch.rand(128, 3, 84, 84)
        ms = {size: round(time_passes(net, images, size, False, 2) * IMAGES / len(images), 1) for size in (4, 8, 16, 32, 64)}
        rows.append({"image": "84x84x3 -> EfficientNet-Lite0 224", "precision": "fp32", "ms_per_1024": ms,
                     "chosen": IMAGES_PER_PASS})
        print(json.dumps(rows[-1]), flush=True)
    record = {"machine": {"cpu": cpu_name(), "threads": a.threads, "python": platform.python_version(),
                          "torch": torch.__version__}, "rows": rows}
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(record, indent=1) + "\n")
    print(f"\n{cpu_name()}, {a.threads} threads: ms to encode {IMAGES} images, by images per pass\n")
    print("| image | precision | " + " | ".join(str(s) for s in SIZES) + " | workbench's pass |")
    print("|---|---|" + "---|" * len(SIZES) + "---|")
    for r in rows:
        print(f"| {r['image']} | {r['precision']} | " + " | ".join(str(r["ms_per_1024"].get(s, "-")) for s in SIZES)
              + f" | {r['chosen']} |")
    for r in rows:
        if 4 in r["ms_per_1024"]:
            print(f"\n{r['image']}, {r['precision']}: " + ", ".join(f"{s} per pass {v} ms" for s, v in r["ms_per_1024"].items())
                  + f" per 1024 images; the workbench's pass {r['chosen']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
