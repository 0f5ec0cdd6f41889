"""Pixels of the right type and a wrong meaning: float images with NaN or infinite values are refused with
a reason instead of decoding to black; extreme but finite floats still decode to the picture."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from tests.robustness.corpus import make_good_classes
from tests.robustness.helpers import run_cli, tiny_dataset, tiny_run
from workbench.data.images import ImageDecodeError, decode_image


def float_tiff(values: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(values.astype(np.float32), mode="F").save(buffer, "TIFF")
    return buffer.getvalue()


def gradient(size: int = 16) -> np.ndarray:
    return np.tile(np.linspace(0.0, 1.0, size), (size, 1))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_a_float_image_with_a_non_finite_pixel_is_refused_saying_how_many(bad):
    values = gradient()
    values[3, 4] = bad
    with pytest.raises(ImageDecodeError, match="1 of 256 pixels are NaN or infinite"):
        decode_image(float_tiff(values), 16, 1)


def test_an_all_nan_float_image_is_refused_not_black():
    with pytest.raises(ImageDecodeError, match="256 of 256"):
        decode_image(float_tiff(np.full((16, 16), np.nan)), 16, 1)


def test_extreme_finite_floats_keep_the_picture():
    values = gradient() * 6e38 - 3e38  # float32's whole range: the difference overflows float32, not float64
    pixels = decode_image(float_tiff(values), 16, 1)[0]
    assert pixels[:, 0].max() < 20 and pixels[:, -1].min() > 235


def test_a_nan_image_in_a_support_folder_is_a_warning_naming_it_and_the_rest_adapts(capsys, tmp_path_factory):
    root = tmp_path_factory.mktemp("nan-support")
    run = tiny_run(tiny_dataset(root / "data"), root / "run")
    make_good_classes(root / "support", classes=2, images=2)
    values = gradient(20)
    values[0, 0] = np.nan
    (root / "support" / "good_0" / "nan.tif").write_bytes(float_tiff(values))
    query = root / "query"
    query.mkdir()
    (query / "q.png").write_bytes((root / "support" / "good_1" / "img_0.png").read_bytes())
    code, out, err = run_cli(capsys, "adapt", run, "--support", root / "support", "--query", query, "--mode", "model")
    assert code == 0, err
    assert "nan.tif" in err and "NaN or infinite" in err
    assert out.count("\n") == 1
