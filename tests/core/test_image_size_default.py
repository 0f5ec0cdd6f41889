"""New runs train at the image size measured best (runs/image_size.py), from the CLI and from the window."""

import pytest

from workbench.cli import build_parser, config_from_args
from workbench.runs.image_size import DEFAULT_IMAGE_SIZE


def test_a_train_without_image_size_uses_the_measured_default(glyphs_shared):
    parser = build_parser()
    assert DEFAULT_IMAGE_SIZE == 32
    assert config_from_args(parser.parse_args(["train", "--data", str(glyphs_shared)])).image_size == 32
    assert config_from_args(parser.parse_args(["train", "--data", str(glyphs_shared), "--image-size", "28"])).image_size == 28


def test_the_help_names_the_default(capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["train", "--help"])
    assert "resized to S x S (default 32)" in " ".join(capsys.readouterr().out.split())
