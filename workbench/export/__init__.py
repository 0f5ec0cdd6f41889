"""Exporting an adapted classifier (a run's model adapted to labelled folders) to ONNX or TorchScript.

    result = export_adapted("runs/a", "support/", "onnx", "model.onnx")
    result = export_labelled("runs/a", "photos/", {"a.png": "cat", "b.png": "dog"}, "onnx", "model.onnx")

The functions the CLI's `export` and the GUI call alike (the second for the Label page's labels, which
gives the file the first gives for the same images in class folders); they never import Qt.
The exported model takes images (batch, C, S, S) as float32 in [0, 1], resized to
the run's image size (grayscale for C = 1), as the image files look: a run trained
with `invert` has the 1 - x inside the exported model, so its users never invert
(metadata `input.inverted_inside`). It gives class probabilities; the class
names are written beside it (FILE.classes.json) and inside it (ONNX metadata
`classes`, TorchScript extra file `classes.json`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch

from workbench.errors import ConfigError
from workbench.data.pixels import invert_pixels_
from workbench.export.adapted import (
    ExportError, InvertedInput, Tempered, TemperedLogits, adapted_module, as_saved_module, can_export, check_exportable,
)
from workbench.export.formats import FORMATS, onnx_bytes, torchscript_bytes
from workbench.data.problems import printable
from workbench.atomic import write_pair_atomic
from workbench.validation import check_output_file

__all__ = ["ExportError", "ExportResult", "FORMATS", "adapted_module", "can_export", "export_adapted",
           "export_labelled", "export_support", "format_for_file", "suggested_file_name"]

# The exported model must give what the workbench gives: this much probability difference at most.
TOLERANCE = 1e-4
SUFFIXES = {"onnx": ".onnx", "torchscript": ".pt"}


@dataclass(frozen=True)
class ExportResult:
    """What was written, for the user to read: the model file, the class-names file, the check made."""

    path: str
    classes_path: str
    format: str
    classes: tuple[str, ...]
    image_size: int
    channels: int
    max_difference: float  # largest probability difference to the workbench's own predictor on the support images
    problems: tuple[str, ...] = ()
    inverted_inside: bool = False  # the run inverts pixels (1 - x); the exported model does it on its input
    space: str = "model"  # what adapting chose: model, finetune, pretrained or pixels
    reason: str = ""  # why, in words (adapt's own sentence)
    images_per_class: tuple[int, ...] = ()  # support images read for each class, in the order of `classes`

    def to_json(self) -> dict:
        return {"path": self.path, "classes_path": self.classes_path, "format": self.format,
                "classes": list(self.classes), "image_size": self.image_size, "channels": self.channels,
                "max_difference": self.max_difference, "problems": list(self.problems),
                "inverted_inside": self.inverted_inside, "space": self.space, "reason": self.reason,
                "images_per_class": list(self.images_per_class)}


def suggested_file_name(run_dir: str | Path, fmt: str) -> str:
    return f"{Path(run_dir).resolve().name}{SUFFIXES.get(fmt, '')}"


def format_for_file(path: str | Path) -> str:
    """The format a file name asks for: .pt / .pts / .torchscript -> torchscript, anything else -> onnx."""
    return "torchscript" if Path(path).suffix.lower() in (".pt", ".pts", ".torchscript") else "onnx"


def _is_text(name: str) -> bool:
    try:
        name.encode("utf-8")
        return True
    except UnicodeEncodeError:  # undecodable bytes of a file name (surrogate escapes)
        return False


def classes_path_for(out: str | Path) -> Path:
    out = Path(out)
    return out.with_name(out.name + ".classes.json")


def export_adapted(run_dir: str | Path, support: str | Path, fmt: str, out: str | Path,
                   progress: Callable[[str], None] | None = None, mode: str = "auto") -> ExportResult:
    """Adapt the run's model to the support folders (one subfolder of images per class) and save it as `fmt`.

    `mode` is adapt's (`auto`: the space cross-validation on the labelled images chooses), so the saved model
    predicts what `adapt` with the same mode predicts."""
    from workbench.training.jobs import read_support_folder

    def read(size: int, channels: int) -> SupportImages:
        names, file_x, support_y, problems = read_support_folder(str(support), size, channels)
        for name in names:
            if not _is_text(name):
                raise ExportError(f"The class folder name '{printable(name)}' in {support} is not valid UTF-8 text, so "
                                  f"it cannot be stored as a class name; rename the folder and export again.")
        return names, file_x, support_y, problems

    return export_support(run_dir, read, fmt, out, progress, mode, inputs=(run_dir, support))


def export_labelled(run_dir: str | Path, folder: str | Path, labels: dict[str, str], fmt: str, out: str | Path,
                    progress: Callable[[str], None] | None = None, mode: str = "auto") -> ExportResult:
    """export_adapted with the support set given as labels (image path relative to `folder` -> class name),
    as a labelling session holds them: the same file `export` writes for these images in class folders."""
    from workbench.export.labelled import read_labelled

    return export_support(run_dir, lambda size, channels: read_labelled(folder, labels, size, channels),
                          fmt, out, progress, mode, inputs=(run_dir,))


# (class names, images as the files look, class index of each image, what was left out)
SupportImages = tuple[list[str], torch.Tensor, torch.Tensor, list]


def export_support(run_dir: str | Path, read: Callable[[int, int], SupportImages], fmt: str, out: str | Path,
                   progress: Callable[[str], None] | None = None, mode: str = "auto",
                   inputs: tuple[str | Path, ...] = ()) -> ExportResult:
    """The export itself: `read(image_size, channels)` gives the support images at the run's size."""
    from workbench.adaptation.for_run import policy_for_run
    from workbench.runs.model_loading import load_trained

    say = progress or (lambda text: None)
    if fmt not in FORMATS:
        raise ConfigError(f"Unknown export format '{fmt}'; choose one of {', '.join(FORMATS)}.")
    out = Path(out)
    if out.is_dir():
        raise ConfigError(f"{out} is a folder; give the file to write, e.g. {out / suggested_file_name(run_dir, fmt)}.")
    # Never over the run's own files or the support images, never over a device, pipe or /dev/stdout.
    for target in (out, classes_path_for(out)):
        check_output_file(target, "The export file", inputs=inputs)
    say("loading the run")
    algorithm, config = load_trained(str(run_dir), "cpu")
    algorithm.precision = "fp32"  # the exported model computes in fp32, so the check compares like with like
    check_exportable(algorithm)  # before reading any images
    # As the files look (the exported model's input), then as the run's model sees them.
    names, file_x, support_y, problems = read(config.image_size, config.channels)
    support_x = invert_pixels_(file_x.clone()) if config.invert else file_x
    say(f"adapting to {len(names)} classes, {len(support_x)} images")
    # What `adapt --mode MODE` predicts, with its calibrated confidence: the chosen space as a module, or the
    # run's own adapted classifier when the run's model was chosen.
    adapted = policy_for_run(str(run_dir), algorithm, mode).adapt(support_x, support_y, len(names))
    if adapted.module is not None:
        module = TemperedLogits(as_saved_module(adapted.module), adapted.temperature, adapted.power).eval()
    else:
        classifier = adapted_module(algorithm, support_x, support_y, len(names))
        # Adapt calibrated the run's feature logits (a metric model) or its log-probabilities (any other).
        from_logits = adapted.uses_features and callable(getattr(classifier, "logits", None))
        module = Tempered(classifier, adapted.temperature, adapted.power, from_logits).eval()
    say(f"chose {adapted.reason}")
    if config.invert:
        module = InvertedInput(module).eval()
    with torch.no_grad():
        expected = adapted.predict_proba(support_x).float().cpu()
        got = module(file_x.float())
    difference = float((expected - got).abs().max())
    if difference > TOLERANCE:
        raise ExportError(f"The exported model would disagree with the workbench (probabilities differ by up to "
                          f"{difference:.2g}); nothing was written. Please report this for '{algorithm.name}'.")
    metadata = {
        "classes": json.dumps(names, ensure_ascii=False),
        "input": json.dumps({"name": "images", "shape": ["batch", config.channels, config.image_size, config.image_size],
                             "dtype": "float32", "range": [0.0, 1.0],
                             "color": "grayscale" if config.channels == 1 else "RGB",
                             "inverted_inside": config.invert}),
        "algorithm": json.dumps(config.algorithm),
    }
    say(f"writing {fmt} to {out}")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(f"Cannot write {out}: {exc.strerror or exc}.") from None
    example = file_x[: min(len(file_x), 2)].float()
    classes_path = classes_path_for(out)
    model = (onnx_bytes if fmt == "onnx" else torchscript_bytes)(module, example, metadata)
    class_list = {key: json.loads(value) for key, value in metadata.items()}
    try:  # one commit for the pair: a stop at any moment never leaves the new model beside the old class list
        write_pair_atomic(out, model, classes_path, (json.dumps(class_list, indent=2) + "\n").encode("utf-8"))
    except OSError as exc:
        raise ExportError(f"Cannot write {out}: {exc.strerror or exc}; no model was left there.") from None
    return ExportResult(str(out), str(classes_path), fmt, tuple(names), config.image_size, config.channels,
                        difference, tuple(str(p) for p in problems), config.invert, adapted.space, adapted.reason,
                        tuple(torch.bincount(support_y, minlength=len(names)).tolist()))
