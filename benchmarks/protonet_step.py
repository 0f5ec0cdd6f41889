"""What the parts of a ProtoNet training step cost on this machine, interleaved in one process.

One ProtoNet (max-pool Conv4, 28x28 grayscale, 5-way 1-shot 15-query episodes of real Omniglot
characters when ../shared/data/omniglot is present, else synthetic glyphs) meta-trains through
`meta_train` under each variant in turn, step after step, so the machine's drift hits every variant
alike:

- default: what the runner builds (channels-last, max-pool before the ReLU);
- relu-then-pool: the blocks as most code writes them (ReLU on the full-size maps, then the pool);
- nchw: the weights and images in the plain NCHW memory format;

each in fp32 and bf16 autocast. Median ms per step after a warm-up, and the ratio to the default.

    .venv/bin/python benchmarks/protonet_step.py [--steps 40] [--threads 2]

Results go to benchmarks/results/protonet_step.json with the machine; a Markdown table on stdout.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from benchmarks._omniglot import OMNIGLOT, cpu_name  # noqa: E402
from workbench import catalogue  # noqa: E402
from workbench.data.cache import build_cache  # noqa: E402
from workbench.data.sampler import EpisodeSampler  # noqa: E402
from workbench.data.sources import scan_datasets  # noqa: E402
from workbench.data.splits import class_views  # noqa: E402
from workbench.models.conv4 import ConvBlock  # noqa: E402

VARIANTS = ("default", "relu-then-pool", "nchw")


def relu_then_pool(self, x):
    return F.max_pool2d(F.relu(self.norm(self.conv(x))), 2)


def episodes_folder(work: Path) -> tuple[Path, str]:
    archive = OMNIGLOT / "images_background_small1.zip"
    if archive.exists():
        with zipfile.ZipFile(archive) as z:
            z.extractall(work)
        return work / "images_background_small1", "Omniglot images_background_small1"
    from tests.synthetic import make_glyph_dataset

    return make_glyph_dataset(work / "glyphs", groups=3, classes_per_group=8, images_per_class=20), "synthetic glyphs"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=40, help="timed steps per variant (after 5 warm-up steps)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "protonet_step.json")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.set_flush_denormal(True)  # as the runner does on a CPU
    folder, source = episodes_folder(Path(tempfile.mkdtemp(prefix="protonet-step-")))
    cache = build_cache(scan_datasets([str(folder)]), 28, 1)
    sampler = EpisodeSampler(cache, class_views(list(range(cache.num_classes)), False), 5, 1, 15, seed=0, invert=True)
    plain_forward = ConvBlock.forward
    rows = []
    for precision in ("fp32", "bf16"):
        models = {}
        for variant in VARIANTS:
            torch.manual_seed(0)
            models[variant] = catalogue.get("protonet")(1, 28, {}, torch.device("cpu"), precision)
            if variant != "nchw":
                models[variant].use_channels_last()
        times: dict[str, list[float]] = {v: [] for v in VARIANTS}
        for step in range(5 + a.steps):
            for variant in VARIANTS:
                ConvBlock.forward = relu_then_pool if variant == "relu-then-pool" else plain_forward
                episode = sampler.sample()
                began = time.perf_counter()
                models[variant].meta_train([episode])
                if step >= 5:
                    times[variant].append(time.perf_counter() - began)
        ConvBlock.forward = plain_forward
        default = statistics.median(times["default"])
        for variant in VARIANTS:
            median = statistics.median(times[variant])
            rows.append({"precision": precision, "variant": variant, "ms_per_step": round(median * 1000, 2),
                         "default_speedup": round(median / default, 2)})
            print(json.dumps(rows[-1]), flush=True)
    record = {"machine": {"cpu": cpu_name(), "threads": a.threads, "python": platform.python_version(),
                          "torch": torch.__version__}, "episodes": source, "steps": a.steps, "rows": rows}
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(record, indent=1) + "\n")
    print(f"\n{cpu_name()}, {a.threads} threads, {source}, median of {a.steps} interleaved steps\n")
    print("| precision | variant | ms per step | the default is this much faster |\n|---|---|---|---|")
    for r in rows:
        print(f"| {r['precision']} | {r['variant']} | {r['ms_per_step']} | {r['default_speedup']}× |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
