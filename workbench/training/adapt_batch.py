"""`adapt --batch`: one process, one model load, many (support, query) folder pairs.

A script that labels many folders would otherwise start Python, import torch and
load the run once per pair. Here each line of the batch file (or of stdin, `-`)
names a pair, `SUPPORT_DIR<TAB>QUERY_DIR`; blank lines and lines starting with
`#` are skipped. Every pair is answered as soon as it is done (one JSON object
per line with --json, flushed), so a program can write a line to stdin and read
the answer back while the model stays loaded. A pair that cannot be used (a
folder that is missing, no images) is answered with its error and the batch
goes on; the exit status then says that something failed.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, TextIO

from workbench.errors import ConfigError, WorkbenchError


@dataclass(frozen=True)
class FolderPair:
    line: int
    support: str
    query: str


def read_pairs(lines: Iterable[str], source: str) -> Iterator[FolderPair]:
    """The folder pairs of a batch file's lines; a malformed line raises ConfigError naming it."""
    for number, raw in enumerate(lines, start=1):
        text = raw.rstrip("\r\n")
        if not text.strip() or text.lstrip().startswith("#"):
            continue
        parts = text.split("\t")
        if len(parts) != 2 or not all(p.strip() for p in parts):
            raise ConfigError(f"Line {number} of {source} should be SUPPORT_DIR<TAB>QUERY_DIR, got '{text[:120]}'.")
        yield FolderPair(number, parts[0].strip(), parts[1].strip())


def open_batch(path: str) -> tuple[TextIO, str]:
    if path == "-":
        return sys.stdin, "stdin"
    file = Path(path)
    if not file.is_file():
        raise ConfigError(f"Batch file not found: {path}")
    return file.open(encoding="utf-8"), str(file)


def run_batch(run_dir: str, batch: str, device: str, overrides: dict[str, str], as_json: bool,
              out: TextIO | None = None, err: TextIO | None = None, mode: str = "auto", refine: bool = True) -> int:
    """Answer every pair of `batch` with the run's model loaded once; 0 when all pairs worked, else 2.

    `out` and `err` default to the streams of the moment of the call (the CLI's guarded stdout), not of import.
    """
    out, err = out or sys.stdout, err or sys.stderr
    from workbench.adaptation.for_run import policy_for_run
    from workbench.runs.model_loading import load_trained
    from workbench.training.jobs import predict_folders

    handle, source = open_batch(batch)
    algorithm, config = load_trained(run_dir, device, overrides)
    policy = policy_for_run(run_dir, algorithm, mode, refine=refine)
    failed = 0
    try:
        for pair in read_pairs(handle, source):
            try:
                answer = predict_folders(policy, config, pair.support, pair.query)
            except WorkbenchError as exc:
                failed += 1
                if as_json:
                    print(json.dumps({"support": pair.support, "query": pair.query, "error": str(exc)},
                                     ensure_ascii=False), file=out, flush=True)
                print(f"error: line {pair.line} of {source}: {exc}", file=err, flush=True)
                continue
            for problem in answer.problems:
                print(f"warning: {problem}", file=err)
            for suspect in answer.suspects:
                print(f"warning: {suspect.describe()}", file=err)
            if as_json:
                print(json.dumps({"support": pair.support, "query": pair.query,
                                  "predictions": [p.to_json() for p in answer.predictions],
                                  "suspect_labels": [s.to_json() for s in answer.suspects]}, ensure_ascii=False),
                      file=out, flush=True)
            else:
                for p in answer.predictions:
                    print(f"{p.label}\t{p.confidence:.3f}\t{p.path}", file=out)
                out.flush()
    finally:
        if handle is not sys.stdin:
            handle.close()
    return 2 if failed else 0
