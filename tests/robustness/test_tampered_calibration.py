"""A calibration.json with values the fit never produces is not trusted: those values are left out (the
space's confidence is then fitted on the labelled images), so predictions still follow the model."""

import json
import shutil

import pytest

from tests.headless import main_py
from tests.shared_runs import copy_of_run
from workbench.runs.folder import RunFolder


@pytest.fixture(scope="module")
def run(cli_protonet_run, tmp_path_factory):
    return copy_of_run(cli_protonet_run, tmp_path_factory, "tampered")


@pytest.mark.parametrize("temperature, power", [(9.9e5, 1.0), (0.05, 1e-30), (0.05, 9.99), (-1.0, 0.5)])
def test_values_the_fit_never_makes_are_left_out(tmp_path, temperature, power):
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "calibration.json").write_text(json.dumps(
        {"temperatures": {"model": temperature, "pixels": 0.2}, "powers": {"model": power, "pixels": 1.0}}))
    read = RunFolder(folder).read_calibration()
    assert read["temperatures"].get("pixels") == 0.2 and read["powers"].get("pixels") == 1.0
    assert "model" not in read["temperatures"] or "model" not in read["powers"]


def test_a_tampered_calibration_does_not_give_every_image_one_label(run, glyphs_shared, tmp_path):
    (run / "calibration.json").write_text(json.dumps({"temperatures": {"model": 9.9e5}, "powers": {"model": 1e-30}}))
    support, query = tmp_path / "support", tmp_path / "query"
    query.mkdir()
    for c in range(3):
        source = glyphs_shared / "group_2" / f"class_{c:02d}"
        (support / source.name).mkdir(parents=True)
        for i in range(3):
            shutil.copy(source / f"img_{i:02d}.png", support / source.name)
        for i in range(3, 6):
            shutil.copy(source / f"img_{i:02d}.png", query / f"{source.name}_{i}.png")
    result = main_py("adapt", run, "--support", support, "--query", query, "--mode", "model", "--json")
    assert result.returncode == 0, result.stderr
    labels = [p["label"] for p in json.loads(result.stdout)]
    assert len(labels) == 9 and len(set(labels)) > 1
