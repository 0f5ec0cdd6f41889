"""A run whose network records an architecture reports it for the live view: a search at its start and at
each validation (with every edge's mix), a searched backbone once; other networks report none."""

from workbench.data.splits import SplitSpec
from workbench.inspect.architecture import kinds_used, read_cell, summary
from workbench.runs.config import RunConfig
from workbench.training.events import ArchitectureUpdate, Validation
from workbench.training.runner import train_run

TINY_SEARCH = {"cells": 2, "nodes": 2, "channels": 4}


def short_config(glyphs, algorithm, hparams, steps=4):
    return RunConfig(data=[str(glyphs)], algorithm=algorithm, hparams=hparams, ways=3, shots=1, queries=2, steps=steps,
                     val_every=2, val_episodes=2, checkpoint_every=2, image_size=28, channels=1, device="cpu",
                     precision="fp32", split=SplitSpec("group", val_fraction=0.25, test_groups=("group_2",)))


def test_a_search_reports_its_architecture_at_the_start_and_after_each_validation(glyphs_shared, tmp_path):
    events = list(train_run(short_config(glyphs_shared, "metanas", TINY_SEARCH), tmp_path / "search"))
    updates = [e for e in events if isinstance(e, ArchitectureUpdate)]
    validations = [e.step for e in events if isinstance(e, Validation)]
    assert [u.step for u in updates] == [0, *validations] == [0, 2, 4]
    record = updates[-1].record
    assert kinds_used(record) == ("normal", "reduce")
    reduce = read_cell(record, "reduce")
    # Two nodes: node 2 reads states 0-1, node 3 states 0-2; two kept inputs each.
    assert reduce.mix is not None and len(reduce.mix.edges) == 5 and len(reduce.kept) == 4
    assert all(abs(sum(row) - 1) < 1e-3 for row in reduce.mix.shares)  # each edge's mix is a softmax
    assert all(reduce.is_kept(e.source, e.target, e.operation) and e.operation != "none" for e in reduce.kept)
    assert "temperature" in summary(record)
    assert updates[0].record != record  # alpha moved between the start and the end


def test_a_searched_backbone_reports_its_cell_once_and_a_plain_one_nothing(glyphs_shared, tmp_path):
    list(train_run(short_config(glyphs_shared, "metanas", TINY_SEARCH, steps=2), tmp_path / "search"))
    searched = {"backbone": "searched", "backbone_architecture": str(tmp_path / "search" / "architecture.json")}
    events = list(train_run(short_config(glyphs_shared, "protonet", searched), tmp_path / "proto"))
    updates = [e for e in events if isinstance(e, ArchitectureUpdate)]
    assert len(updates) == 1 and updates[0].step == 0
    assert all(read_cell(updates[0].record, kind).mix is None for kind in ("normal", "reduce"))
    plain = list(train_run(short_config(glyphs_shared, "protonet", {}, steps=2), tmp_path / "plain"))
    assert not any(isinstance(e, ArchitectureUpdate) for e in plain)


def test_a_damaged_record_reads_as_what_it_holds():
    assert read_cell({}, "normal").kept == () and read_cell({}, "normal").mix is None
    broken = {"cells": ["normal"], "operations": ["none", "skip_connect"],
              "normal": {"nodes": [{"node": 2, "inputs": [{"from": "x"}, {"from": 1, "operation": "skip_connect"}]}],
                         "edges": [{"from": 0, "to": 2, "weights": "lots"}]}}
    cell = read_cell(broken, "normal")
    assert [(e.source, e.target, e.operation) for e in cell.kept] == [(1, 2, "skip_connect")] and cell.mix is None
    assert kinds_used(broken) == ("normal",) and summary(broken) == ""
