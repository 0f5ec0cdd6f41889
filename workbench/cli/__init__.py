"""Headless commands: train, evaluate, adapt, export, table, algorithms, plugins. Never imports Qt.

Errors the user can cause print one line to stderr and exit with status 2.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from pathlib import Path

from workbench.cli.run_commands import cmd_adapt, cmd_calibrate, cmd_evaluate, cmd_export, cmd_table, text_of_name
from workbench.cli.train_command import EXIT_RUN_FAILED, check_local_data, cmd_train, config_from_args, parse_sets
from workbench.errors import ConfigError, WorkbenchError
from workbench.runs.group_episodes import DEFAULT_GROUP_EPISODES
from workbench.runs.image_size import DEFAULT_IMAGE_SIZE

# Kept here, not imported from workbench.adaptation, so `--help` needs no torch.
ADAPT_MODES = ("auto", "model", "finetune", "pretrained", "pixels")
ADAPT_MODE_HELP = ("how to adapt: auto (default) chooses per support set between the run's model, a pretrained "
                   "network and raw pixels, by how they predict the labelled images (2+ per class) and how they agree "
                   "on the unlabelled ones; or force one of them (finetune: the run's features fine-tuned on the "
                   "labelled images)")
REFINE_HELP = ("let the images to be predicted refine each class's prototype by how likely they belong to it, "
               "with metric models and pretrained features (default on; --no-refine predicts each image from the "
               "labelled ones alone, as an exported model does)")

EXIT_USER_ERROR = 2
# Names the tests and other modules import from here.
__all__ = ["main", "build_parser", "config_from_args", "parse_sets", "check_local_data", "text_of_name", "ADAPT_MODES",
           "EXIT_RUN_FAILED", "EXIT_USER_ERROR"]


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    from workbench.catalogue import plugins

    # Whichever command loads the plugins says at once which one failed (a hung one is waited for).
    plugins.report_failures_to(_warn_plugin_not_loaded)
    if "--no-plugins" in argv:  # accepted before or after the command
        argv = [a for a in argv if a != "--no-plugins"]
        plugins.disable()
    if not argv:
        # `workbench` with no command opens the desktop app.
        from workbench.gui.app import run_app

        return run_app(sys.argv[:1])
    parser = build_parser()
    args = parser.parse_args(argv)
    previous = _stop_signals_interrupt() if args.command not in ("train", "gui") else {}
    stdout = sys.stdout
    try:
        from workbench.validation import check_arguments

        check_arguments(args)
        sys.stdout = _guarded_output(stdout, args)
        code = args.handler(args)
        sys.stdout.flush()  # what is still buffered fails here, not unexplained at exit
        return code
    except BrokenPipeError:
        return _reader_went_away()
    except OutputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        _reader_went_away()
        return EXIT_USER_ERROR
    except WorkbenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except Stopped as exc:
        print(f"stopped by {signal.Signals(exc.number).name}", file=sys.stderr)
        return 128 + exc.number
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug (ours or a plugin's): one line for the user, the traceback on request
        if os.environ.get("WORKBENCH_DEBUG"):
            raise
        print(f"error: unexpected failure: {type(exc).__name__}: {exc} (set WORKBENCH_DEBUG=1 to see the traceback)",
              file=sys.stderr)
        return EXIT_RUN_FAILED
    finally:
        sys.stdout = stdout
        for number, handler in previous.items():
            signal.signal(number, handler)


class OutputError(WorkbenchError):
    """The standard output cannot take what the command prints."""


class _GuardedOutput:
    """sys.stdout whose failed writes (a full disk behind `> FILE`, /dev/full) are one sentence, not a bug report."""

    def __init__(self, stream) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        return self._guard(self._stream.write, text)

    def flush(self) -> None:
        self._guard(self._stream.flush)

    def _guard(self, call, *args):
        try:
            return call(*args)
        except BrokenPipeError:
            raise
        except OSError as exc:
            from workbench.runs.folder import describe_os_error

            raise OutputError(f"Cannot write the results to the standard output: {describe_os_error(exc)}; "
                              f"free some space or send them elsewhere.") from None

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


def _prints_results(args: argparse.Namespace) -> bool:
    """Whether the command's results go to the standard output (not only to files and stderr)."""
    if args.command == "table":
        return not args.out
    if args.command in ("train", "export"):
        return bool(args.json)
    return args.command != "gui"


def _guarded_output(stream, args: argparse.Namespace):
    if stream is None:  # started with the standard output closed (`>&-`)
        if _prints_results(args):
            raise ConfigError("The standard output is closed, so the results would be lost; "
                              "run the command with somewhere to print them (a terminal, a pipe or > FILE).")
        return open(os.devnull, "w")
    for each in (stream, sys.stderr):
        # A locale that cannot spell a name (LANG=C, latin-1): escape the letter instead of failing on it.
        if hasattr(each, "reconfigure") and (getattr(each, "encoding", "") or "").lower().replace("-", "") != "utf8":
            try:
                each.reconfigure(errors="backslashreplace")
            except (ValueError, OSError):
                pass
    return _GuardedOutput(stream)


class Stopped(KeyboardInterrupt):
    """SIGTERM or SIGHUP, raised where the command is, so that its cleanup runs as for Ctrl-C."""

    def __init__(self, number: int) -> None:
        super().__init__(number)
        self.number = number


def _stop_signals_interrupt() -> dict:
    """SIGTERM (a scheduler, `kill`) and SIGHUP (a closed terminal) stop a command as Ctrl-C does: files being
    written are removed instead of left half-made. Returns the handlers to put back. (train has its own.)"""
    def stop(number, _frame):
        raise Stopped(number)

    previous = {}
    for name in ("SIGTERM", "SIGHUP"):
        number = getattr(signal, name, None)
        if number is not None:
            try:
                previous[number] = signal.signal(number, stop)
            except ValueError:  # not the main thread (a test or an embedding program): leave signals alone
                break
    return previous


def _reader_went_away() -> int:
    """The reader of our output closed it (`... | head`): a normal way to stop reading, so stop quietly."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # Python's flush at exit must not fail again
    except (OSError, ValueError):
        pass
    return 141  # 128 + SIGPIPE, as a program killed by the closed pipe would end


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "workbench",
        description="Few-Shot Workbench. With no command the desktop app opens; these commands run headless.",
    )
    parser.add_argument("--no-plugins", action="store_true",
                        help="load no plugins, only the built-in algorithms (also WORKBENCH_NO_PLUGINS=1)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    train = commands.add_parser("train", help="meta-train an algorithm on image folders into a run folder")
    train.add_argument("--data", action="append", metavar="PATH", help="dataset folder or .zip (repeat to combine)")
    train.add_argument("--algorithm", default="protonet", help="algorithm name (see `algorithms`)")
    train.add_argument("--ways", type=int, default=5, help="N: classes per episode (default 5)")
    train.add_argument("--shots", type=int, default=1, help="K: labelled images per class (default 1)")
    train.add_argument("--queries", type=int, default=15, help="Q: query images per class (default 15)")
    train.add_argument("--train-ways", type=int, default=0,
                       help="ways during training only (default: the algorithm's choice; ProtoNet trains 30-way)")
    train.add_argument("--train-queries", type=int, default=0,
                       help="queries per class during training only (default: the algorithm's choice, else --queries)")
    train.add_argument("--image-size", type=int, default=DEFAULT_IMAGE_SIZE,
                       help=f"images are resized to S x S (default {DEFAULT_IMAGE_SIZE})")
    train.add_argument("--channels", type=int, choices=(1, 3), default=1, help="1 grayscale or 3 RGB (default 1)")
    train.add_argument("--rotations", action=argparse.BooleanOptionalAction, default=None,
                       help="add 90/180/270-degree rotations of training classes as new classes "
                            "(default: on for drawings such as characters, off for photos; decided from the images)")
    train.add_argument("--mirror", action=argparse.BooleanOptionalAction, default=None,
                       help="add the mirror image of each training class (and of its rotations) as new classes "
                            "(default: as --rotations)")
    train.add_argument("--augment", action=argparse.BooleanOptionalAction, default=True,
                       help="distort each training image a little: shift, rotation, scale, shear (default on)")
    train.add_argument("--invert", action=argparse.BooleanOptionalAction, default=None,
                       help="invert pixel values (1 − x), for dark strokes on a light background such as Omniglot or scans "
                            "(default: decided from the images; saved with the run: evaluate, adapt and export use it too)")
    train.add_argument("--group-episodes", type=float, default=DEFAULT_GROUP_EPISODES, metavar="SHARE",
                       help="share of training episodes whose classes all come from one group, the folder above "
                            "the classes (an Omniglot alphabet: look-alike classes); 0 to 1, 0 turns it off "
                            f"(default {DEFAULT_GROUP_EPISODES:g})")
    train.add_argument("--purpose", choices=("use", "measure"), default="use",
                       help="use (default): train on every class, keeping 10%% back to pick the best weights; "
                            "measure: also hold 20%% of the classes out for a test score (`evaluate`)")
    train.add_argument("--steps", type=int, default=None,
                       help="meta-updates (default: the algorithm's, 5000 for ProtoNet and 1000 for the others)")
    train.add_argument("--meta-batch", type=int, default=1, help="episodes per meta-update (default 1)")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--device", default="auto", help="auto (CUDA when present), cpu or cuda")
    train.add_argument("--precision", default="auto", choices=("auto", "fp32", "bf16"), help="auto: bf16 where the hardware is fast at it")
    train.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="algorithm hyperparameter (repeatable)")
    train.add_argument("--split", choices=("class", "group"), default="class", help="split classes at random, or hold out whole groups")
    train.add_argument("--test-groups", default="", help="comma-separated groups held out for test (with --split group)")
    train.add_argument("--val-groups", default="", help="comma-separated groups for validation (with --split group)")
    train.add_argument("--val-fraction", type=float, default=None, help="share of classes for validation (default 0.1)")
    train.add_argument("--test-fraction", type=float, default=None,
                       help="share of classes (or groups) for test (default 0 with --purpose use, 0.2 with measure)")
    train.add_argument("--val-every", type=int, default=100, help="validate every this many steps")
    train.add_argument("--val-episodes", type=int, default=100, help="episodes per validation")
    train.add_argument("--checkpoint-every", type=int, default=100, help="checkpoint every this many steps")
    train.add_argument("--time-limit", type=float, default=0.0, metavar="SECONDS", help="stop training after this long (default: no limit)")
    train.add_argument("--cache-mb", type=float, default=0.0, metavar="MB",
                       help="keep at most this many MB of decoded images in memory, re-reading the least recently "
                            "used classes from disk (default 0: keep all)")
    train.add_argument("--out", metavar="RUN_DIR", help="run folder to create (default runs/<time>-<algorithm>)")
    train.add_argument("--resume", metavar="RUN_DIR", help="continue the run in RUN_DIR from its last checkpoint")
    train.add_argument("--allow-changed-data", action="store_true",
                       help="with --resume: go on even when the data's classes or image counts changed since the run began")
    train.add_argument("--tensorboard", action="store_true", help="also write TensorBoard scalars into RUN_DIR/tensorboard/")
    train.add_argument("--json", action="store_true", help="print a JSON summary at the end")
    train.add_argument("--quiet", action="store_true", help="print only the summary")
    train.set_defaults(handler=cmd_train)

    ev = commands.add_parser("evaluate", help="accuracy +- 95%% CI of a run over test episodes")
    ev.add_argument("run_dir", metavar="RUN_DIR")
    ev.add_argument("--data", action="append", metavar="PATH", help="dataset folder or .zip (default: the run's data)")
    ev.add_argument("--ways", type=int, help="N (default: the run's)")
    ev.add_argument("--shots", type=int, help="K (default: the run's)")
    ev.add_argument("--queries", type=int, help="Q (default: the run's)")
    ev.add_argument("--episodes", type=int, default=600, help="episodes to average (default 600)")
    ev.add_argument("--classes", choices=("auto", "test", "all"), default="auto",
                    help="auto: the run's test classes when --data is its training data, else all classes")
    ev.add_argument("--episode-file", metavar="JSON", help="score these fixed episodes instead of sampling (e.g. a published protocol)")
    ev.add_argument("--seed", type=int, default=0)
    ev.add_argument("--device", default="auto")
    ev.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                    help="a setting that only changes adapting (algorithms --json: after_training), e.g. test_shifts=1")
    ev.add_argument("--mode", choices=ADAPT_MODES, default="auto", help=ADAPT_MODE_HELP)
    ev.add_argument("--refine", action=argparse.BooleanOptionalAction, default=True, help=REFINE_HELP)
    ev.add_argument("--json", action="store_true", help="print one JSON object")
    ev.set_defaults(handler=cmd_evaluate)

    ad = commands.add_parser("adapt", help="adapt a run to labelled folders and label the query images")
    ad.add_argument("run_dir", metavar="RUN_DIR", nargs="?",
                    help="a trained run folder (default: the built-in model for drawings and symbols, which also "
                         "weighs pretrained photo features and raw pixels: no training needed)")
    ad.add_argument("--support", metavar="DIR", help="one subfolder of labelled images per class")
    ad.add_argument("--query", metavar="DIR", help="unlabelled images, flat or nested")
    ad.add_argument("--batch", metavar="FILE", help="many folder pairs with the model loaded once: lines SUPPORT_DIR<TAB>QUERY_DIR "
                                                    "('-': stdin, answered line by line; see training/adapt_batch.py)")
    ad.add_argument("--device", default="auto")
    ad.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                    help="a setting that only changes adapting (algorithms --json: after_training)")
    ad.add_argument("--mode", choices=ADAPT_MODES, default="auto", help=ADAPT_MODE_HELP)
    ad.add_argument("--refine", action=argparse.BooleanOptionalAction, default=True, help=REFINE_HELP)
    ad.add_argument("--json", action="store_true", help="print a JSON list, one object per query image")
    ad.set_defaults(handler=cmd_adapt)

    ca = commands.add_parser("calibrate", help="fit a run's confidence calibration again, as this version fits it "
                                               "at the end of training (no training; calibration.json is replaced)")
    ca.add_argument("run_dir", metavar="RUN_DIR")
    ca.add_argument("--device", default="auto")
    ca.add_argument("--json", action="store_true", help="print the calibration report as JSON")
    ca.set_defaults(handler=cmd_calibrate)

    ex = commands.add_parser("export", help="adapt a run to labelled folders and save the classifier as ONNX or TorchScript")
    ex.add_argument("run_dir", metavar="RUN_DIR", nargs="?", help="a trained run folder (default: the built-in model)")
    ex.add_argument("--support", required=True, metavar="DIR", help="one subfolder of labelled images per class")
    ex.add_argument("--format", choices=("onnx", "torchscript"), default="onnx", help="file format (default onnx)")
    ex.add_argument("--out", required=True, metavar="FILE", help="model file to write; class names go to FILE.classes.json")
    ex.add_argument("--mode", choices=ADAPT_MODES, default="auto", help=ADAPT_MODE_HELP + " (the saved model predicts "
                    "what adapt with the same mode predicts)")
    ex.add_argument("--json", action="store_true", help="print a JSON summary")
    ex.set_defaults(handler=cmd_export)

    tb = commands.add_parser("table", help="a CSV or Markdown table of runs: algorithm, hyperparameters, protocol, "
                                "accuracy +- CI, and the cell a MetaNAS search found")
    tb.add_argument("runs", nargs="+", metavar="RUN", help="run folders, or folders holding run folders")
    tb.add_argument("--format", choices=("markdown", "csv"), default="markdown", help="default markdown")
    tb.add_argument("--out", metavar="FILE", help="write the table to FILE instead of printing it")
    tb.set_defaults(handler=cmd_table)

    gui = commands.add_parser("gui", help="open the desktop app, optionally with data loaded and training started")
    gui.add_argument("--data", action="append", default=[], metavar="PATH", help="dataset folder or .zip to load")
    gui.add_argument("--algorithm", help="algorithm to preselect")
    gui.add_argument("--runs", metavar="DIR", help="folder for new run folders (default runs/)")
    gui.add_argument("--steps", type=int, help="training steps to preset")
    gui.add_argument("--rotations", action="store_true", help="preset rotations as new classes")
    gui.add_argument("--invert", action="store_true", help="preset inverting pixel values (1 − x) for dark-on-light images")
    gui.add_argument("--start", action="store_true", help="start training at once (needs --data)")
    gui.set_defaults(handler=cmd_gui)

    al = commands.add_parser("algorithms", help="list the registered algorithms and their hyperparameters")
    al.add_argument("--json", action="store_true")
    al.set_defaults(handler=cmd_algorithms)

    pl = commands.add_parser("plugins", help="list the plugins, where each came from and whether it loaded")
    pl.add_argument("--json", action="store_true")
    pl.add_argument("--examples", choices=("on", "off"),
                    help="switch the example plugins shipped in plugins/ on or off (kept in the plugin settings)")
    pl.set_defaults(handler=cmd_plugins)
    return parser


def cmd_gui(args: argparse.Namespace) -> int:
    for path in args.data:
        check_local_data(path)
    from workbench.gui.app import run_app

    settings = {}
    if args.steps:
        settings["steps"] = args.steps
    if args.rotations:
        settings["rotations"] = True
    if args.invert:
        settings["invert"] = True
    return run_app([sys.argv[0], *args.data], runs_root=args.runs, algorithm=args.algorithm,
                   start=args.start, settings=settings)


def _warn_plugin_not_loaded(status) -> None:
    print(f"warning: plugin {status.name} was not loaded: {status.error}", file=sys.stderr, flush=True)


def cmd_algorithms(args: argparse.Namespace) -> int:
    from workbench import catalogue

    described = catalogue.describe_all()  # imports no algorithm (nor torch) that was only declared
    if args.json:
        print(json.dumps(described, indent=2))
    else:
        for item in described:
            print(f"{item['name']:<12} {item['summary']}")
            for hp in item["hyperparameters"]:
                extra = f" in [{hp['min']}, {hp['max']}]" if "min" in hp else (f" one of {hp['choices']}" if "choices" in hp else "")
                print(f"    {hp['name']} ({hp['type']}, default {hp['default']}{extra}): {hp['help']}")
    return 0


def cmd_plugins(args: argparse.Namespace) -> int:
    from workbench.catalogue import plugins
    from workbench import catalogue

    if args.examples:
        settings = plugins.current_settings()
        settings.project_folder = args.examples == "on"
        plugins.use_settings(settings)  # saved; what is switched off leaves at the next start
        print(f"example plugins {args.examples}", file=sys.stderr)
    catalogue.names()  # loads the plugins from the enabled places
    problem = plugins.settings_problem()
    if problem:
        print(f"warning: {problem}", file=sys.stderr)
    statuses = plugins.statuses()
    if args.json:
        print(json.dumps({"enabled": plugins.enabled(), "folders": [str(f) for f, _ in plugins.plugin_folders()],
                          "plugins": [plugins.describe_status(s) for s in statuses]}, indent=2))
        return 0
    if not plugins.enabled():
        print("plugin loading is off (--no-plugins, WORKBENCH_NO_PLUGINS or the settings file)")
    elif not plugins.current_settings().project_folder:
        print(f"the example plugins in {plugins.PROJECT_PLUGINS} are off: `main.py plugins --examples on` "
              "(or Tools › Plugins…) switches them on")
    for folder, source in plugins.plugin_folders():
        print(f"folder ({source}): {folder}{'' if folder.is_dir() else '  [missing]'}")
    for s in statuses:
        state = f"loaded: {', '.join([*s.algorithms, *s.backbones]) or 'registers nothing'}" if s.loaded else f"FAILED: {s.error}"
        print(f"{s.name:<20} {s.source:<22} {state}")
    return 0


