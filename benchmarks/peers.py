"""The workbench beside the libraries people would use instead, on identical work, in one interleaved run.

Peers: easyfsl 1.5.0 (ProtoNet) and learn2learn 0.2.0 (MAML), through the scripts in ../shared/peers
(see its README; `setup_venv.sh` builds their virtual environment). Work, all Omniglot
images_background_small1, 28x28 grayscale inverted (`1 - x`), 5-way 1-shot 15-query, 2 threads:

    a  ProtoNet, Conv4 with max-pool, from the PNG folder: easyfsl's EasySet pipeline (decodes every
       episode's PNGs) vs `main.py train` on the same folder (decodes once into its cache), episodes/s
    b  ProtoNet in memory: easyfsl's TaskSampler over a preloaded tensor vs the workbench's sampler
       over its decoded cache and `meta_train`, episodes/s
    c  second-order MAML on the max-pool Conv4 (learn2learn CNN4(max_pool=True) vs `conv4`),
       meta-batch 32, one inner step, tasks/s, in memory
    d  second-order MAML on Finn et al.'s strided Conv4 (learn2learn OmniglotCNN vs `conv4_strided`)
    e  first-order MAML on the strided Conv4

Each repeat runs every work's peer and workbench child processes back to back (A B A B ..., the order
swapped every other repeat), so a machine whose load drifts hits both sides alike; the table gives
medians over repeats and the median of the pairwise ratios, with each child's peak memory
(ru_maxrss from wait4). Results: benchmarks/results/peers.json.

    python benchmarks/peers.py --peers-python /tmp/peers-venv/bin/python              # 3 repeats
    python benchmarks/peers.py --repeats 1 --quick --work a,c                         # a smoke run
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OMNIGLOT = ROOT.parent / "shared" / "data" / "omniglot"
SETS = ("images_background_small1", "images_background_small2")
RESULTS = ROOT / "benchmarks" / "results" / "peers.json"


@dataclass
class Work:
    key: str
    title: str
    unit: str
    peer_name: str
    peer: list[str]  # arguments of the peer script (after the interpreter)
    project: list[str]  # arguments of the workbench's child (after the interpreter)
    train_windows: tuple[int, int, int] | None = None  # set when `project` is `main.py train`: timed from metrics.csv
    runs: dict = field(default_factory=lambda: {"peer": [], "project": []})


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as handle:
            return next(line.split(":", 1)[1].strip() for line in handle if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor() or platform.machine()


def run_child(command: list[str], env: dict, timeout: float) -> tuple[int, str, str, float, float]:
    """Run one child; returns exit code, stdout, stderr, wall seconds and its own peak RSS in MiB."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=err, env=env, cwd=ROOT)
        deadline = started + timeout
        while True:  # wait4 gives this child's own rusage (RUSAGE_CHILDREN would be the largest child so far)
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                process.kill()
                pid, status, usage = os.wait4(process.pid, 0)
                break
            time.sleep(0.05)
        process.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - started
        out.seek(0), err.seek(0)
        return process.returncode, out.read(), err.read(), wall, usage.ru_maxrss / 1024.0


def extract_data(target: Path) -> Path:
    for name in SETS:
        if not (target / name).is_dir():
            with zipfile.ZipFile(OMNIGLOT / f"{name}.zip") as archive:
                archive.extractall(target)
    return target


def windows(quick: bool) -> dict:
    """The same timing windows for both sides: ProtoNet in episodes, MAML in meta-updates of 32 tasks."""
    if quick:
        return {"proto": (5, 3, 10), "maml": (1, 3, 1)}
    return {"proto": (20, 7, 40), "maml": (2, 5, 2)}


def make_works(peers: Path, data: Path, out_dir: Path, quick: bool, precision: str) -> list[Work]:
    (pw, pn, pk), (mw, mn, mk) = windows(quick)["proto"], windows(quick)["maml"]
    small1 = str(data / SETS[0])
    efs = [str(peers / "easyfsl_protonet_bench.py"), "--data-root", str(data), "--mode", "bench", "--backbone", "pool",
           "--warmup", str(pw), "--windows", str(pn), "--episodes-per-window", str(pk), "--out-dir", str(out_dir)]
    l2l = [str(peers / "l2l_maml_bench.py"), "--data-root", str(data), "--mode", "bench", "--data-path", "memory",
           "--meta-batch", "32", "--inner-steps", "1", "--warmup", str(mw), "--windows", str(mn),
           "--iters-per-window", str(mk), "--out-dir", str(out_dir)]
    child = [str(ROOT / "benchmarks" / "_peer_work.py"), "--data", small1, "--precision", precision]
    proto = [*child, "--algorithm", "protonet", "--warmup", str(pw), "--windows", str(pn), "--steps-per-window", str(pk)]
    maml = [*child, "--algorithm", "maml", "--meta-batch", "32", "--warmup", str(mw), "--windows", str(mn),
            "--steps-per-window", str(mk)]
    steps = pw + pn * pk
    train = [str(ROOT / "main.py"), "train", "--data", small1, "--algorithm", "protonet", "--invert", "--device", "cpu",
             "--precision", precision, "--steps", str(steps), "--val-every", str(steps), "--val-episodes", "1",
             "--checkpoint-every", str(steps + 1), "--split", "class", "--quiet", "--json", "--out", "{run}",
             "--image-size", "28",
             # The peers' work exactly: 5-way training episodes (the CLI's default trains ProtoNet 30-way) and
             # no rotated, mirrored or distorted classes (easyfsl's EasySet has none).
             "--train-ways", "5", "--train-queries", "15", "--no-rotations", "--no-mirror", "--no-augment"]
    return [
        Work("a", "ProtoNet, max-pool Conv4, from the PNG folder", "episodes/s", "easyfsl 1.5.0 EasySet",
             [*efs, "--data-path", "easyset", "--tag", "efs_easyset"], train, (pw, pn, pk)),
        Work("b", "ProtoNet, max-pool Conv4, in memory", "episodes/s", "easyfsl 1.5.0, preloaded tensor",
             [*efs, "--data-path", "memory", "--tag", "efs_memory"], [*proto, "--backbone", "conv4"]),
        Work("c", "second-order MAML, max-pool Conv4, meta-batch 32, 1 inner step", "tasks/s",
             "learn2learn 0.2.0 CNN4(max_pool=True)", [*l2l, "--algo", "maml", "--backbone", "cnn4-pool", "--tag", "l2l_maml_pool"],
             [*maml, "--backbone", "conv4"]),
        Work("d", "second-order MAML, strided Conv4 (Finn et al.)", "tasks/s", "learn2learn 0.2.0 OmniglotCNN",
             [*l2l, "--algo", "maml", "--backbone", "omniglotcnn", "--tag", "l2l_maml_strided"], [*maml, "--backbone", "conv4_strided"]),
        Work("e", "first-order MAML, strided Conv4", "tasks/s", "learn2learn 0.2.0 OmniglotCNN, first order",
             [*l2l, "--algo", "fomaml", "--backbone", "omniglotcnn", "--tag", "l2l_fomaml_strided"],
             [*maml, "--backbone", "conv4_strided", "--first-order"]),
    ]


def train_rate(run_dir: Path, spec: tuple[int, int, int]) -> dict:
    """Episodes/s of `main.py train` from its metrics.csv, in the peers' windows (warm-up, then windows)."""
    warmup, count, size = spec
    lines = (run_dir / "metrics.csv").read_text().splitlines()
    header = lines[0].split(",")
    rows = [dict(zip(header, line.split(","))) for line in lines[1:]]
    elapsed = {int(r["step"]): float(r["elapsed_s"]) for r in rows if r["phase"] == "train"}
    rates = []
    for w in range(count):
        start, end = warmup + w * size, warmup + (w + 1) * size
        rates.append(size / (elapsed[end] - elapsed[start]))
    return {"median": statistics.median(rates), "windows": [round(r, 3) for r in rates]}


def measure(work: Work, side: str, peers_python: str, out_dir: Path, env: dict, timeout: float) -> dict:
    if side == "peer":
        code, out, err, wall, rss = run_child([peers_python, "-W", "ignore", *work.peer], env, timeout)
        if code != 0:
            return {"error": (err.strip().splitlines() or ["exit %d" % code])[-1], "rss_mib": rss}
        tag = work.peer[work.peer.index("--tag") + 1]
        record = json.loads((out_dir / f"{tag}.json").read_text())
        rates = record.get("episodes_per_s") or record["tasks_per_s"]
        return {"rate": rates["median"], "windows": rates["windows"], "wall_s": round(wall, 1), "rss_mib": round(rss, 1)}
    args = list(work.project)
    if work.train_windows:  # `main.py train` into a fresh run folder, timed from its metrics.csv
        run_dir = Path(tempfile.mkdtemp(prefix="peers-run-")) / "run"
        args[args.index("{run}")] = str(run_dir)
        code, out, err, wall, rss = run_child([sys.executable, *args], env, timeout)
        if code != 0:
            return {"error": (err.strip().splitlines() or ["exit %d" % code])[-1], "rss_mib": rss}
        rates = train_rate(run_dir, work.train_windows)
        precision = json.loads((run_dir / "config.json").read_text()).get("precision")
        return {"rate": rates["median"], "windows": rates["windows"], "wall_s": round(wall, 1), "rss_mib": round(rss, 1),
                "precision": precision}
    code, out, err, wall, rss = run_child([sys.executable, *args], env, timeout)
    if code != 0:
        return {"error": (err.strip().splitlines() or ["exit %d" % code])[-1], "rss_mib": rss}
    record = json.loads(out.strip().splitlines()[-1])
    return {"rate": record["median"], "windows": record["windows"], "wall_s": round(wall, 1), "rss_mib": round(rss, 1),
            "precision": record["precision"]}


def summarise(work: Work) -> dict:
    peer = [r["rate"] for r in work.runs["peer"] if "rate" in r]
    mine = [r["rate"] for r in work.runs["project"] if "rate" in r]
    pairs = [m["rate"] / p["rate"] for p, m in zip(work.runs["peer"], work.runs["project"]) if "rate" in p and "rate" in m]
    rss = {side: max((r["rss_mib"] for r in runs), default=None) for side, runs in work.runs.items()}
    return {
        "work": work.key, "title": work.title, "unit": work.unit, "peer": work.peer_name,
        "peer_median": round(statistics.median(peer), 2) if peer else None,
        "peer_range": [round(min(peer), 2), round(max(peer), 2)] if peer else None,
        "project_median": round(statistics.median(mine), 2) if mine else None,
        "project_range": [round(min(mine), 2), round(max(mine), 2)] if mine else None,
        "ratio_median": round(statistics.median(pairs), 2) if pairs else None,
        "ratios": [round(r, 2) for r in pairs],
        "peer_peak_rss_mib": rss["peer"], "project_peak_rss_mib": rss["project"],
        "errors": [r["error"] for runs in work.runs.values() for r in runs if "error" in r],
        "runs": work.runs,
    }


def table(rows: list[dict]) -> str:
    out = ["| work | peer | peer rate | project rate | project / peer (pairwise) | peak MiB peer / project |",
           "|---|---|---|---|---|---|"]
    for r in rows:
        if r["peer_median"] is None or r["project_median"] is None:
            out.append(f"| {r['work']}. {r['title']} | {r['peer']} | – | – | failed: {'; '.join(r['errors'])[:120]} | – |")
            continue
        span = lambda lo_hi: f"{lo_hi[0]}–{lo_hi[1]}"  # noqa: E731
        out.append(
            f"| {r['work']}. {r['title']} ({r['unit']}) | {r['peer']} | {r['peer_median']} ({span(r['peer_range'])}) | "
            f"{r['project_median']} ({span(r['project_range'])}) | **{r['ratio_median']}×** ({', '.join(map(str, r['ratios']))}) | "
            f"{r['peer_peak_rss_mib']:.0f} / {r['project_peak_rss_mib']:.0f} |")
    return "\n".join(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--peers", type=Path, default=ROOT.parent / "shared" / "peers", help="folder of the peer scripts")
    ap.add_argument("--peers-python", default=os.environ.get("PEERS_PYTHON", "/tmp/peers-venv/bin/python"),
                    help="interpreter of the peers' venv (setup_venv.sh; also $PEERS_PYTHON)")
    ap.add_argument("--data-root", type=Path, help="folder holding the unzipped small1 and small2 (default: unzip to a temp folder)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--work", default="a,b,c,d,e", help="comma-separated subset of a,b,c,d,e")
    ap.add_argument("--precision", default="auto", choices=("auto", "fp32", "bf16"), help="the workbench's (default: the CLI's)")
    ap.add_argument("--quick", action="store_true", help="short timing windows (a smoke run, not figures)")
    ap.add_argument("--load-note", default="", help="how busy the machine was, for the record (e.g. 'loaded: 4 other users')")
    ap.add_argument("--out", type=Path, default=RESULTS)
    ap.add_argument("--timeout", type=float, default=900.0, help="seconds per child process")
    a = ap.parse_args()

    missing = [p for p in ("easyfsl_protonet_bench.py", "l2l_maml_bench.py", "peers_common.py") if not (a.peers / p).is_file()]
    if missing:
        print(f"skipped: the peer scripts are not in {a.peers} ({', '.join(missing)} missing); pass --peers DIR.")
        return 0
    if not Path(a.peers_python).is_file():
        print(f"skipped: no peer interpreter at {a.peers_python}; build it with {a.peers / 'setup_venv.sh'} and pass --peers-python.")
        return 0
    if a.data_root is None and not all((OMNIGLOT / f"{s}.zip").is_file() for s in SETS):
        print(f"skipped: the Omniglot zips are not in {OMNIGLOT}; pass --data-root with the unzipped sets.")
        return 0
    data = a.data_root or extract_data(Path(tempfile.gettempdir()) / "workbench-peers-omniglot")
    out_dir = Path(tempfile.mkdtemp(prefix="peers-results-"))
    env = {**os.environ, "OMP_NUM_THREADS": "2", "PYTHONWARNINGS": "ignore"}
    env.pop("PYTHONPATH", None)
    keys = [k.strip() for k in a.work.split(",") if k.strip()]
    works = [w for w in make_works(a.peers, data, out_dir, a.quick, a.precision) if w.key in keys]
    for repeat in range(a.repeats):
        for work in works:
            for side in (("peer", "project") if repeat % 2 == 0 else ("project", "peer")):
                result = measure(work, side, a.peers_python, out_dir, env, a.timeout)
                work.runs[side].append(result)
                print(f"repeat {repeat + 1}/{a.repeats} {work.key} {side}: "
                      f"{result.get('rate', result.get('error'))} (peak {result['rss_mib']:.0f} MiB)", file=sys.stderr, flush=True)
    rows = [summarise(w) for w in works]
    record = {"machine": {"cpu": cpu_name(), "cores": os.cpu_count(), "python": platform.python_version(),
                          "load_note": a.load_note, "loadavg_at_end": os.getloadavg()},
              "repeats": a.repeats, "quick": a.quick, "precision": a.precision, "date": time.strftime("%Y-%m-%d"),
              "command": " ".join(["python", "benchmarks/peers.py", *sys.argv[1:]]), "rows": rows}
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(record, indent=1))
    print(f"{cpu_name()}, {os.cpu_count()} cores, {a.repeats} interleaved repeat(s){', quick windows' if a.quick else ''}"
          f"{'; ' + a.load_note if a.load_note else ''}\n")
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
