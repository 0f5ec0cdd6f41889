"""`adapt --batch`: one process, one model load, many (support, query) folder pairs.

A script that labels many folders would otherwise start Python, import torch and
load the run once per pair. Here each line of the batch file (or of stdin, `-`)
names a pair, `SUPPORT_DIR<TAB>QUERY_DIR`; blank lines and lines starting with
`#` are skipped. Lines are read as bytes, at most LINE_LIMIT of them kept: a line that is
too long, not UTF-8 or not a pair is answered with its error like a missing folder. Every pair is answered as soon as it is done (one JSON object
per line with --json, flushed), so a program can write a line to stdin and read
the answer back while the model stays loaded. A pair that cannot be used (a
folder that is missing, no images) is answered with its error and the batch
goes on; the exit status then says that something failed.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from dataclasses import dataclass
from typing import BinaryIO, Iterator, TextIO

from workbench.data.problems import printable
from workbench.errors import ConfigError, WorkbenchError
from workbench.files import kind_of


LINE_LIMIT = 64 * 1024  # two paths of at most PATH_MAX (4096) bytes each, with room to spare


@dataclass(frozen=True)
class FolderPair:
    line: int
    support: str
    query: str


@dataclass(frozen=True)
class BadLine:
    """A line that names no usable pair; it is answered with `problem` and the batch goes on."""

    line: int
    problem: str


def bounded_lines(stream: BinaryIO, limit: int = LINE_LIMIT) -> Iterator[bytes | None]:
    """Each line of `stream` as bytes, or None for a line longer than `limit`, which is read through
    without being kept: a file of one endless line must not fill the memory."""
    while True:
        line = stream.readline(limit + 1)
        if not line:
            return
        if len(line) <= limit or line.endswith(b"\n"):
            yield line
            continue
        while line and not line.endswith(b"\n"):
            line = stream.readline(limit)
        yield None


def parse_line(number: int, raw: bytes | None, source: str) -> FolderPair | BadLine | None:
    """The pair a line names, a BadLine saying what is wrong with it, or None for a blank or # line."""
    where = f"Line {number} of {source}"
    if raw is None:
        return BadLine(number, f"{where} is longer than {LINE_LIMIT // 1024} KiB; no pair of folder paths is.")
    try:
        text = raw.decode("utf-8").rstrip("\r\n")
    except UnicodeDecodeError:
        return BadLine(number, f"{where} is not UTF-8 text ('{printable(raw[:80].decode('utf-8', 'surrogateescape'))}').")
    if not text.strip() or text.lstrip().startswith("#"):
        return None
    parts = text.split("\t")
    if len(parts) != 2 or not all(p.strip() for p in parts):
        return BadLine(number, f"{where} should be SUPPORT_DIR<TAB>QUERY_DIR, got '{printable(text[:120])}'.")
    if any("\0" in p for p in parts):
        return BadLine(number, f"{where} holds a NUL character, which no path can.")
    return FolderPair(number, parts[0].strip(), parts[1].strip())


def read_pairs(stream: BinaryIO, source: str) -> Iterator[FolderPair | BadLine]:
    """The folder pairs of a batch stream's lines, and a BadLine for each line that names none."""
    for number, raw in enumerate(bounded_lines(stream), start=1):
        parsed = parse_line(number, raw, source)
        if parsed is not None:
            yield parsed


def open_batch(path: str) -> tuple[BinaryIO, str]:
    """The batch's byte stream: stdin for `-`, else a file or a named pipe (a program may write pairs into one)."""
    if path == "-":
        return sys.stdin.buffer, "stdin"
    try:
        info = os.stat(path)
    except (OSError, ValueError):
        raise ConfigError(f"Batch file not found: {printable(path)}") from None
    if not (stat.S_ISREG(info.st_mode) or stat.S_ISFIFO(info.st_mode)):
        raise ConfigError(f"Batch file {printable(path)} is {kind_of(info.st_mode)}, not a file of folder pairs.")
    try:
        return open(path, "rb"), path
    except OSError as exc:
        raise ConfigError(f"Cannot read the batch file {printable(path)}: {exc.strerror or exc}.") from None


def _answer_error(out: TextIO, err: TextIO, as_json: bool, line: int, source: str, message: str,
                  pair: FolderPair | None = None) -> None:
    if as_json:
        answer = {"line": line, "error": message}
        if pair is not None:
            answer.update(support=printable(pair.support), query=printable(pair.query))
        print(json.dumps(answer, ensure_ascii=False), file=out, flush=True)
    prefix = "" if message.startswith(f"Line {line} of") else f"line {line} of {printable(source)}: "
    print(f"error: {prefix}{message}", file=err, flush=True)


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
            if isinstance(pair, BadLine):
                failed += 1
                _answer_error(out, err, as_json, pair.line, source, pair.problem)
                continue
            try:
                answer = predict_folders(policy, config, pair.support, pair.query)
            except WorkbenchError as exc:
                failed += 1
                _answer_error(out, err, as_json, pair.line, source, printable(str(exc)), pair)
                continue
            for problem in answer.problems:
                print(f"warning: {problem}", file=err)
            for suspect in answer.suspects:
                print(f"warning: {suspect.describe()}", file=err)
            if as_json:
                print(json.dumps({"line": pair.line, "support": printable(pair.support), "query": printable(pair.query),
                                  "predictions": [p.to_json() for p in answer.predictions],
                                  "suspect_labels": [s.to_json() for s in answer.suspects]}, ensure_ascii=False),
                      file=out, flush=True)
            else:
                for p in answer.predictions:
                    print(f"{printable(p.label)}\t{p.confidence:.3f}\t{printable(p.path)}", file=out)
                out.flush()
    finally:
        if handle is not sys.stdin.buffer:
            handle.close()
    return 2 if failed else 0
