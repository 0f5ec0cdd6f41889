"""`train`: a run's settings from the command line, and the training loop's lines on the terminal."""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import sys
import time
from datetime import datetime
from pathlib import Path

from workbench.errors import ConfigError

EXIT_RUN_FAILED = 1


def parse_sets(pairs: list[str]) -> dict[str, str]:
    values = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise ConfigError(f"--set expects NAME=VALUE, got '{pair}'.")
        if name.strip() in values and values[name.strip()] != value.strip():  # which one was meant?
            raise ConfigError(f"--set {name.strip()} is given twice, as '{values[name.strip()]}' and '{value.strip()}'; "
                              f"give it once.")
        values[name.strip()] = value.strip()
    return values


def _groups(text: str) -> tuple[str, ...]:
    return tuple(g.strip() for g in text.split(",") if g.strip())


def _default_steps(algorithm: str) -> int:
    from workbench import catalogue

    return catalogue.get(algorithm).default_steps


def _auto(flag: bool | None) -> bool | str:
    return "auto" if flag is None else flag


def config_from_args(args: argparse.Namespace):
    from workbench.data.splits import SplitSpec
    from workbench.runs.config import RunConfig

    if not args.data:
        raise ConfigError("train needs at least one --data PATH (a folder of class folders, or a .zip).")
    for path in args.data:
        check_local_data(path)
    test_fraction = args.test_fraction
    if test_fraction is None:
        test_fraction = 0.2 if args.purpose == "measure" else 0.0
    split = SplitSpec(
        mode=args.split, val_fraction=0.1 if args.val_fraction is None else args.val_fraction, test_fraction=test_fraction,
        test_groups=_groups(args.test_groups), val_groups=_groups(args.val_groups), seed=args.seed,
    )
    if args.split == "class" and (split.test_groups or split.val_groups):
        raise ConfigError("--test-groups and --val-groups need --split group.")
    return RunConfig(
        data=[str(Path(p).resolve()) for p in args.data], algorithm=args.algorithm, hparams=parse_sets(args.set),
        ways=args.ways, shots=args.shots, queries=args.queries, train_ways=args.train_ways, train_queries=args.train_queries,
        image_size=args.image_size, channels=args.channels, rotations=_auto(args.rotations), mirror=_auto(args.mirror),
        augment=args.augment, invert=_auto(args.invert), group_episodes=args.group_episodes, purpose=args.purpose, split=split,
        steps=args.steps or _default_steps(args.algorithm), meta_batch=args.meta_batch, seed=args.seed, device=args.device, precision=args.precision,
        val_every=args.val_every, val_episodes=args.val_episodes, checkpoint_every=args.checkpoint_every,
        time_limit_s=args.time_limit, max_cache_mb=args.cache_mb, tensorboard=args.tensorboard,
    )


def cmd_train(args: argparse.Namespace) -> int:
    from workbench.runs.folder import RunFolder
    from workbench.training.control import RunControl
    from workbench.training.events import DataProgress, Message, RunFinished, RunStarted, TrainStep, Validation
    from workbench.training import distributed
    from workbench.training.runner import train_run

    main_process = distributed.is_main_process()  # under torchrun only rank 0 prints
    if args.resume:
        folder = RunFolder.open(args.resume)
        config = folder.read_config()
        run_dir = args.resume
        for path in config.data:
            if not os.path.lexists(path):
                raise ConfigError(f"The run's data {path} is not there any more; resuming trains on the same data, "
                                  f"so move it back there first.")
    else:
        config = config_from_args(args)
        from workbench import catalogue

        catalogue.get(config.algorithm)  # unknown names fail before any data is read
        run_dir = args.out or str(Path("runs") / f"{datetime.now():%Y%m%d-%H%M%S}-{config.algorithm}")
    control = RunControl()
    # Ctrl-C, SIGTERM (a scheduler, systemd) and SIGHUP (a closed terminal) all stop cleanly: checkpoint, status, exit.
    stop_signals = [signal.SIGINT, signal.SIGTERM] + ([signal.SIGHUP] if hasattr(signal, "SIGHUP") else [])
    previous = {number: signal.signal(number, lambda *_: control.cancel_from_signal()) for number in stop_signals}
    say = (lambda *a: None) if args.quiet or args.json or not main_process else (lambda text: print(text, file=sys.stderr, flush=True))
    finished = None
    last_print = 0.0
    try:
        for event in train_run(config, run_dir, control, resume=bool(args.resume),
                               allow_changed_data=args.allow_changed_data,
                               unique=not args.resume and not args.out):  # a default name may be taken
            if isinstance(event, RunStarted):
                say(f"run folder {event.run_dir} | {event.device}, {event.precision} | classes train {event.train_classes}, "
                    f"val {event.val_classes}, test {event.test_classes}")
            elif isinstance(event, Message):
                say(f"{event.level}: {event.text}" if event.level != "info" else event.text)
            elif isinstance(event, DataProgress) and event.done == event.total:
                say(f"decoded {event.total} images")
            elif isinstance(event, TrainStep):
                now = time.monotonic()
                if now - last_print >= 2.0 or event.step == event.total_steps:
                    last_print = now
                    say(f"step {event.step}/{event.total_steps}  loss {event.loss:.3f}  acc {event.accuracy:.1%}  "
                        f"{event.episodes_per_s:.1f} episodes/s  ETA {_duration(event.eta_s)}")
            elif isinstance(event, Validation):
                say(f"validation at step {event.step}: acc {event.accuracy:.1%} +- {event.ci95:.1%}  loss {event.loss:.3f}  "
                    f"(best {event.best_accuracy:.1%})")
            elif isinstance(event, RunFinished):
                finished = event
    finally:
        for number, handler in previous.items():
            # Stopped by a signal: more presses of Ctrl-C while Python exits would only end it with a
            # traceback (the run is saved already), so they are ignored from now on.
            signal.signal(number, signal.SIG_IGN if control.signalled else handler)
        distributed.finish_run()
    assert finished is not None
    if not main_process:
        pass
    elif args.json:
        print(json.dumps({"status": finished.status, "message": finished.message, "step": finished.step,
                          "best_val_accuracy": finished.best_val_accuracy, "run_dir": finished.run_dir}))
    else:
        print(f"{finished.status}: {finished.message} Run folder: {finished.run_dir}", file=sys.stderr)
    return 0 if finished.status in ("completed", "cancelled") else EXIT_RUN_FAILED


def _duration(seconds: float) -> str:
    seconds = int(max(0, seconds))
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m" if seconds >= 3600 else f"{seconds // 60}m{seconds % 60:02d}s"


def check_local_data(path: str) -> None:
    """A --data PATH that exists on this machine; a URL is said to be one (nothing is ever downloaded)."""
    if Path(path).exists():
        return
    if re.match(r"[A-Za-z][A-Za-z0-9+.-]*://", path):  # file://, https://, s3://
        raise ConfigError(f"--data {path} is a URL; the workbench reads only local folders and .zip files, so "
                          f"download it first and give the local path.")
    raise ConfigError(f"Dataset path not found: {path}")
