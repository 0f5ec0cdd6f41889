"""`main.py table` shows the cell a run searched or trained on; a file that went or broke is a short marker."""

import csv
import io

import torch

from workbench.atomic import write_json_atomic
from workbench.cli import main as cli_main
from workbench.models.darts_cell import SearchNetwork
from workbench.models.genotype import Genotype, describe_cell, read_architecture
from workbench.runs.config import RunConfig
from workbench.runs.folder import RunFolder
from workbench.runs.table import runs_table

# Written out by hand, so that the expected line is known: normal keeps the size, reduce halves it.
KNOWN = Genotype(("reduce", "normal"), 2, 4,
                 normal=(((0, "sep_conv_3x3"), (1, "skip_connect")), ((0, "max_pool_3x3"), (2, "dil_conv_3x3"))),
                 reduce=(((0, "avg_pool_3x3"), (1, "sep_conv_5x5")), ((1, "skip_connect"), (2, "max_pool_3x3"))))
KNOWN_LINE = "normal: 2=sep3(0)+skip(1) 3=max3(0)+dil3(2); reduce: 2=avg3(0)+sep5(1) 3=skip(1)+max3(2)"


def make_run(path, data, algorithm="protonet", hparams=None, best=0.5, architecture=None):
    """A run folder as training leaves it: config, status, and the architecture.json it saved (if any)."""
    folder = RunFolder.create(path, RunConfig(data=[str(data)], algorithm=algorithm, hparams=hparams or {},
                                              ways=3, shots=1, queries=2, steps=2), {})
    folder.write_status("completed", "Training finished.", step=2, best_val_accuracy=best, best_step=2)
    if isinstance(architecture, dict):
        write_json_atomic(path / "architecture.json", architecture)
    elif isinstance(architecture, str):
        (path / "architecture.json").write_text(architecture)
    return path


def searched_record() -> dict:
    torch.manual_seed(5)
    network = SearchNetwork(1, cells=3, nodes=3, channels=4)
    with torch.no_grad():  # a search that went somewhere: weights far from even
        network.alpha_normal.normal_(0, 2)
        network.alpha_reduce.normal_(0, 2)
    return network.architecture_record()


def test_the_cell_line_names_each_node_with_its_two_inputs():
    assert describe_cell(KNOWN) == KNOWN_LINE
    normal_only = Genotype(("normal",), 2, 4, KNOWN.normal, KNOWN.reduce)
    assert describe_cell(normal_only) == "normal: 2=sep3(0)+skip(1) 3=max3(0)+dil3(2)"  # the kinds the network uses


def test_the_table_shows_each_runs_cell_and_marks_a_missing_or_damaged_file(tmp_path, capsys):
    data, runs = tmp_path / "data", tmp_path / "runs"
    data.mkdir()
    search = make_run(runs / "a-search", data, "metanas", {"cells": 2, "nodes": 2, "channels": 4}, 0.61,
                      KNOWN.to_record())
    bigger = make_run(runs / "b-bigger-search", data, "metanas", {"channels": 4}, 0.55, searched_record())
    # Trained on the search's cell before saving its own copy: the file its setting names is read.
    make_run(runs / "c-on-the-cell", data, hparams={"backbone": "searched",
                                                     "backbone_architecture": str(search / "architecture.json")})
    gone = tmp_path / "elsewhere" / "architecture.json"
    gone.parent.mkdir()
    write_json_atomic(gone, KNOWN.to_record())
    make_run(runs / "d-file-gone", data, hparams={"backbone": "searched", "backbone_architecture": str(gone)})
    gone.unlink()
    make_run(runs / "e-damaged", data, "metanas", {"channels": 4}, 0.4, "{half a file")
    make_run(runs / "f-plain", data)

    text, problems = runs_table([str(runs)], "markdown")
    lines = text.strip().splitlines()
    assert lines[0].endswith("| Test accuracy (%) | Cell |") and len(lines) == 2 + 6
    cell = {line.split("|")[1].strip(): line.strip().strip("|").split("|")[-1].strip() for line in lines[2:]}
    assert cell["a-search"] == cell["c-on-the-cell"] == KNOWN_LINE
    assert cell["b-bigger-search"] == describe_cell(read_architecture(bigger / "architecture.json"))
    assert cell["b-bigger-search"].count("=") == 2 * 3  # three nodes in each of the two kinds
    assert cell["d-file-gone"] == "architecture file missing"
    assert cell["e-damaged"] == "architecture.json unreadable"
    assert cell["f-plain"] == "–"
    # Why, once each, among the warnings: the run is still a row.
    assert any(str(gone) in p and "not there any more" in p for p in problems)
    assert any(str(runs / "e-damaged" / "architecture.json") in p and "not valid JSON" in p for p in problems)
    assert len(problems) == 2 and all("\n" not in p for p in problems)

    out = tmp_path / "table.csv"
    assert cli_main(["table", str(runs), "--format", "csv", "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert err.count("warning: ") == 2 and "Traceback" not in err
    rows = {row["run"]: row for row in csv.DictReader(io.StringIO(out.read_text()))}
    assert rows["a-search"]["cell"] == KNOWN_LINE and rows["f-plain"]["cell"] == ""
    assert rows["e-damaged"]["cell"] == "architecture.json unreadable"


def test_a_table_without_a_found_cell_has_no_cell_column(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    make_run(tmp_path / "runs" / "plain", data)
    text, problems = runs_table([str(tmp_path / "runs")], "markdown")
    assert "Cell" not in text.splitlines()[0] and not problems
