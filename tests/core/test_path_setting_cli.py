"""A file setting given on the command line: `--set backbone_weights=PATH`."""

from tests.headless import main_py


def test_a_weights_file_that_is_not_there_is_one_clear_line(glyphs_shared, tmp_path):
    missing = tmp_path / "resnet18-f37072fd.pth"
    result = main_py("train", "--data", glyphs_shared, "--algorithm", "siamese", "--set", "backbone=resnet18_imagenet",
                     "--set", f"backbone_weights={missing}", "--out", tmp_path / "run")
    assert result.returncode == 2
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: ") and "'backbone_weights' of siamese must name an existing file" in last
    assert str(missing) in last
    assert not (tmp_path / "run").exists()
