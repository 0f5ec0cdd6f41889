"""The commands on a trained run: evaluate, calibrate, adapt, export, and the runs table."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

from workbench.cli.train_command import check_local_data, parse_sets
from workbench.errors import ConfigError


def cmd_evaluate(args: argparse.Namespace) -> int:
    from workbench.runs.folder import RunFolder
    from workbench.training.jobs import evaluate_run

    config = RunFolder.open(args.run_dir).read_config()
    data = args.data or config.data
    for path in data:
        if not args.data and not os.path.lexists(path):  # moved or renamed since the run was trained
            raise ConfigError(f"The run's data {path} is not there any more; give --data PATH where it is now.")
        check_local_data(path)
    if args.episodes < 1:
        raise ConfigError("--episodes must be at least 1.")
    report = evaluate_run(
        args.run_dir, data, args.ways or config.ways, args.shots or config.shots, args.queries,
        args.episodes, args.seed, args.device, args.classes, episode_file=args.episode_file,
        overrides=parse_sets(args.set), mode=args.mode, refine=args.refine,
    )
    for problem in report.problems:
        print(f"warning: {problem}", file=sys.stderr)
    if args.json:
        print(json.dumps(report.to_json()))
    else:
        r = report.result
        print(f"accuracy {r.accuracy:.2%} +- {r.ci95:.2%} (95% CI) over {r.episodes} episodes "
              f"from {report.classes} classes ({report.class_source})")
        if r.calibration is not None:
            c = r.calibration
            accepted = (f"{c.accepted_share:.0%} of predictions at >= 90% confidence, {c.accepted_precision:.1%} of them right"
                        if c.accepted_share else "no prediction at >= 90% confidence")
            print(f"calibration: expected calibration error {c.ece:.1%}; {accepted}; adapted with "
                  + ", ".join(f"{name} ({count} episodes)" for name, count in r.chosen))
    return 0


class ThrottledProgress:
    """`progress(stage, done, total)` said on stderr at most every PERIOD seconds, and only once a pass
    has run that long: a small folder stays quiet, a folder of thousands shows it is moving."""

    PERIOD = 5.0

    def __init__(self, say) -> None:
        self.say, self.started, self.last = say, time.monotonic(), time.monotonic()

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self.last >= self.PERIOD and done < total:
            self.last = now
            self.say(f"{stage} {done:,} of {total:,} query images ({now - self.started:.0f} s)")


def cmd_calibrate(args: argparse.Namespace) -> int:
    from workbench.training.recalibrate import recalibrate_run

    report = recalibrate_run(args.run_dir, args.device)
    if args.json:
        print(json.dumps(report))
    else:
        for name, t in report["temperatures"].items():
            print(f"{name}: temperature {t:.3g}, power {report['powers'].get(name, 1.0):g}; expected calibration "
                  f"error {report['ece_before'][name]:.1%} -> {report['ece_after'][name]:.1%} on "
                  f"{report['episodes']} validation episodes")
    return 0


def run_or_builtin(run_dir: str | None, quiet: bool) -> str:
    """`run_dir`, or with none the built-in model's folder (said on stderr unless `quiet`); a run that is
    training now is said too: its best model so far is what gets used."""
    if run_dir:
        from workbench.runs.lock import writer_of

        writer = writer_of(run_dir)
        if writer is not None and not quiet:
            print(f"note: {run_dir} is still training{f' (process {writer})' if writer else ''}; its best model so "
                  f"far is used", file=sys.stderr)
        return run_dir
    from workbench.runs.builtin import builtin_model, default_run_dir

    builtin = default_run_dir()
    if builtin is None:
        raise ConfigError("No run given, and this installation has no built-in model: give a trained RUN_DIR "
                          "(main.py train … makes one).")
    if not quiet:
        print(f"using the built-in model '{builtin_model().title}' (give a RUN_DIR to use your own)", file=sys.stderr)
    return builtin


def cmd_adapt(args: argparse.Namespace) -> int:
    from workbench.data.problems import printable

    args.run_dir = run_or_builtin(args.run_dir, args.json)
    if args.batch:
        if args.support or args.query:
            raise ConfigError("--batch names the folders itself: give either --batch FILE or --support and --query.")
        from workbench.training.adapt_batch import run_batch

        return run_batch(args.run_dir, args.batch, args.device, parse_sets(args.set), args.json, mode=args.mode,
                         refine=args.refine)
    if not (args.support and args.query):
        raise ConfigError("adapt needs --support DIR and --query DIR (or --batch FILE).")
    from workbench.training.jobs import adapt_folders

    say = lambda text: print(text, file=sys.stderr)  # noqa: E731
    answer = adapt_folders(args.run_dir, args.support, args.query, args.device, parse_sets(args.set), args.mode,
                           report=say, refine=args.refine, progress=ThrottledProgress(say))
    predictions = answer.predictions
    for problem in answer.problems:
        print(f"warning: {problem}", file=sys.stderr)
    # Support images in the wrong class folder, on stderr in both modes: stdout stays the predictions
    # (a JSON list, as before); `--batch` answers carry them as "suspect_labels" too.
    for suspect in answer.suspects:
        print(f"warning: {suspect.describe()}", file=sys.stderr)
    if args.json:
        print(json.dumps([{**p.to_json(), "path": text_of_name(p.path), "label": text_of_name(p.label),
                           "probabilities": {text_of_name(k): v for k, v in p.probabilities.items()}}
                          for p in predictions], ensure_ascii=False))
    else:
        for p in predictions:  # one line per image, whatever its name holds
            print(f"{printable(p.label)}\t{p.confidence:.3f}\t{printable(p.path)}")
    return 0


def text_of_name(name: str) -> str:
    """A file name as valid text: bytes that are not UTF-8 become \\xNN escapes (JSON must be valid UTF-8)."""
    return os.fsencode(name).decode("utf-8", "backslashreplace")


def cmd_export(args: argparse.Namespace) -> int:
    from workbench.export import export_adapted

    say = (lambda text: None) if args.json else (lambda text: print(text, file=sys.stderr, flush=True))
    run_dir = run_or_builtin(args.run_dir, args.json)
    result = export_adapted(run_dir, args.support, args.format, args.out, progress=say, mode=args.mode)
    for problem in result.problems:
        print(f"warning: {problem}", file=sys.stderr)
    if args.json:
        print(json.dumps(result.to_json(), ensure_ascii=False))
    else:
        print(f"wrote {result.path} ({result.format}, {len(result.classes)} classes: {', '.join(result.classes)}; "
              f"input {result.channels}x{result.image_size}x{result.image_size} in [0, 1]"
              f"{', as the files look: the model inverts them itself' if result.inverted_inside else ''}) "
              f"and {result.classes_path}")
    return 0


def cmd_table(args: argparse.Namespace) -> int:
    from workbench.atomic import same_file_as_stream, write_text_atomic
    from workbench.runs.table import runs_table

    text, problems = runs_table(args.runs, args.format)
    for problem in problems:
        print(f"warning: {problem}", file=sys.stderr)
    if args.out and not same_file_as_stream(args.out, sys.stdout):
        from workbench.validation import check_output_file

        check_output_file(args.out)
        write_text_atomic(args.out, text)
        print(f"wrote {args.out}", file=sys.stderr)
    else:  # no --out, or --out naming standard output itself (/dev/stdout): replacing it would lose `>>`'s file
        sys.stdout.write(text)
    return 0
