"""`adapt --batch`: many folder pairs from one process give what one `adapt` per pair gives."""

import json
from pathlib import Path

import pytest
from PIL import Image

from tests.headless import main_py

ROOT = Path(__file__).resolve().parents[2]


cli = main_py


@pytest.fixture(scope="module", params=["protonet", "maml"])
def run_and_pairs(request, glyphs_shared, tmp_path_factory):
    tmp = tmp_path_factory.mktemp(f"batch-{request.param}")
    result = cli("train", "--data", glyphs_shared, "--algorithm", request.param, "--ways", 3, "--queries", 2, "--steps", 4,
                 "--val-every", 4, "--val-episodes", 2, "--out", tmp / "run", "--device", "cpu", "--seed", 1)
    assert result.returncode == 0, result.stderr
    pairs = []
    for i, classes in enumerate([("class_00", "class_01"), ("class_02", "class_03", "class_04")]):
        support, query = tmp / f"support{i}", tmp / f"query{i}"
        query.mkdir()
        for name in classes:
            (support / name).mkdir(parents=True)
            Image.open(glyphs_shared / "group_2" / name / "img_00.png").save(support / name / "a.png")
            Image.open(glyphs_shared / "group_2" / name / "img_01.png").save(support / name / "b.png")
            Image.open(glyphs_shared / "group_2" / name / "img_07.png").save(query / f"{name}.png")
        pairs.append((support, query))
    return tmp / "run", pairs


def test_a_batch_answers_each_pair_as_a_single_adapt_would(run_and_pairs, tmp_path):
    run, pairs = run_and_pairs
    batch = tmp_path / "pairs.tsv"
    batch.write_text("# support<TAB>query\n\n" + "".join(f"{s}\t{q}\n" for s, q in pairs))
    result = cli("adapt", run, "--batch", batch, "--json")
    assert result.returncode == 0, result.stderr
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(a["support"], a["query"]) for a in answers] == [(str(s), str(q)) for s, q in pairs]
    for (support, query), answer in zip(pairs, answers):
        single = json.loads(cli("adapt", run, "--support", support, "--query", query, "--json").stdout)
        assert answer["predictions"] == single


def test_stdin_is_answered_and_a_bad_pair_does_not_stop_the_batch(run_and_pairs, tmp_path):
    run, pairs = run_and_pairs
    lines = f"{tmp_path / 'missing'}\t{pairs[0][1]}\n{pairs[0][0]}\t{pairs[0][1]}\n"
    result = cli("adapt", run, "--batch", "-", "--json", stdin=lines)
    assert result.returncode == 2
    first, second = [json.loads(line) for line in result.stdout.splitlines()]
    assert "error" in first and "line 1 of stdin" in result.stderr
    assert len(second["predictions"]) == 2


@pytest.mark.parametrize("content, words", [
    ("only-one-folder\n", "Line 1 of"),
    (None, "Batch file not found"),
])
def test_a_malformed_batch_file_is_one_sentence(run_and_pairs, tmp_path, content, words):
    run, _ = run_and_pairs
    batch = tmp_path / "pairs.tsv"
    if content is not None:
        batch.write_text(content)
    result = cli("adapt", run, "--batch", batch)
    assert result.returncode == 2 and result.stderr.startswith("error: ") and words in result.stderr


def test_adapt_needs_folders_or_a_batch(run_and_pairs, tmp_path):
    run, pairs = run_and_pairs
    result = cli("adapt", run, "--support", pairs[0][0])
    assert result.returncode == 2 and "--support DIR and --query DIR" in result.stderr
    result = cli("adapt", run, "--batch", tmp_path / "x", "--support", pairs[0][0])
    assert result.returncode == 2 and "either --batch" in result.stderr
