"""MetaNAS: the search moves its architecture weights toward what a task needs, the cell it finds is
saved as architecture.json, and `backbone=searched` builds that cell for other algorithms."""

import json

import pytest
import torch

from tests.headless import main_py
from workbench import catalogue
from workbench.data.episode import Episode
from workbench.errors import ConfigError, RunFolderError
from workbench.models.backbones import make_backbone
from workbench.models.darts_cell import SearchNetwork
from workbench.models.genotype import read_architecture
from workbench.models.searched import SearchedNetwork
from workbench.runs.folder import RunFolder

TINY_SEARCH = ("--set", "cells=2", "--set", "nodes=2", "--set", "channels=4")
SHORT_RUN = ("--ways", 3, "--shots", 1, "--queries", 2, "--image-size", 28, "--steps", 2, "--channels", 1, "--seed", 1,
             "--device", "cpu", "--split", "group", "--test-groups", "group_2", "--val-fraction", 0.25, "--val-every", 1,
             "--val-episodes", 2)


# --- the search ------------------------------------------------------------------------------------
def dot_images(paired: bool, count: int, gen: torch.Generator) -> torch.Tensor:
    """28 px images of six single-pixel dots, in three pairs 3 px apart (`paired`) or all at least 5 px apart.

    Every dot is alone in each 3 x 3 window of the stride-2 stem, and the 1 x 1 convolutions, batch norms
    and ReLUs after it work pixel by pixel, so both kinds give the same values in the same numbers: only
    where they lie differs. Skip, average pooling (linear, and the features are means) and none then carry
    nothing of the class into the features; a 3 x 3 max-pool, whose windows take in a whole pair, does.
    """
    images = torch.zeros(count, 1, 28, 28)
    for image in images:
        cells = torch.randperm(9, generator=gen)[:3 if paired else 6]
        jitter = torch.randint(0, 3, (len(cells), 2), generator=gen)
        for cell, (dr, dc) in zip(cells.tolist(), jitter.tolist()):
            row, col = 1 + 9 * (cell // 3) + dr, 1 + 9 * (cell % 3) + dc
            image[0, row, col] = 1.0
            if paired:
                down = bool(torch.randint(2, (1,), generator=gen))
                image[0, row + 3 * down, col + 3 * (not down)] = 1.0
    return images


def pairs_or_singles(gen: torch.Generator, shots: int = 2, queries: int = 4) -> Episode:
    paired_label = int(torch.randint(2, (1,), generator=gen))  # which label is "pairs" changes from task to task
    kinds = [paired_label == 0, paired_label == 1]
    support = torch.cat([dot_images(kind, shots, gen) for kind in kinds])
    query = torch.cat([dot_images(kind, queries, gen) for kind in kinds])
    return Episode(support, torch.arange(2).repeat_interleave(shots), query, torch.arange(2).repeat_interleave(queries),
                   ("a", "b"))


def test_the_search_moves_alpha_to_the_one_operation_that_sees_the_task_and_the_cell_keeps_it():
    # Seeds 0 to 7 all end with max-pool on both edges (its weight 0.27 to 0.63 from 0.25); seed 2 by a wide margin.
    torch.manual_seed(2)
    gen = torch.Generator().manual_seed(2)
    # One reduction cell of one node: two mixed edges, each of none, max-pool, average pool and skip.
    search = catalogue.get("metanas")(1, 28, {"operations": "pooling", "cells": 1, "nodes": 1, "channels": 4,
                                              "arch_meta_lr": 3e-3, "temperature_steps": 0}, "cpu", "fp32")
    operations = search.backbone.operations
    max_pool = operations.index("max_pool_3x3")
    before = search.backbone.mixing_weights()["reduce"].detach().clone()
    assert torch.allclose(before, torch.full_like(before, 0.25), atol=0.01)  # no operation starts ahead

    for _ in range(300):
        search.meta_train([pairs_or_singles(gen) for _ in range(2)])

    after = search.backbone.mixing_weights()["reduce"].detach()
    for edge in after:
        assert edge.argmax() == max_pool and edge[max_pool] > 0.35, after
    genotype = search.backbone.genotype()
    assert genotype.reduce == (((0, "max_pool_3x3"), (1, "max_pool_3x3")),)
    record = search.artifacts()["architecture.json"]
    assert [entry["operation"] for entry in record["reduce"]["nodes"][0]["inputs"]] == ["max_pool_3x3"] * 2


def test_the_temperature_falls_to_its_final_value_and_is_saved_with_the_weights():
    search = catalogue.get("metanas")(1, 28, {"cells": 1, "nodes": 1, "channels": 2, "temperature": 1.0,
                                              "final_temperature": 0.25, "temperature_steps": 2}, "cpu", "fp32")
    gen = torch.Generator().manual_seed(1)
    temperatures = []
    for _ in range(3):
        search.meta_train([pairs_or_singles(gen, 1, 1)])
        temperatures.append(float(search.backbone.temperature))
    assert temperatures == pytest.approx([0.5, 0.25, 0.25])
    assert float(search.state_dict()["backbone"]["temperature"]) == pytest.approx(0.25)


# --- the saved architecture ------------------------------------------------------------------------
def searched_record(seed: int = 3) -> dict:
    torch.manual_seed(seed)
    network = SearchNetwork(1, cells=3, nodes=3, channels=4)
    with torch.no_grad():  # a search that went somewhere: weights far from even
        network.alpha_normal.normal_(0, 2)
        network.alpha_reduce.normal_(0, 2)
    return network.architecture_record()


def test_the_record_says_the_cell_in_words_and_numbers():
    record = searched_record()
    assert (record["format"], record["version"]) == ("fewshot-workbench-architecture", 1)
    assert (record["cells"], record["nodes"], record["channels"]) == (["reduce", "normal", "reduce"], 3, 4)
    for kind in ("normal", "reduce"):
        nodes = record[kind]["nodes"]
        assert [node["node"] for node in nodes] == [2, 3, 4]
        for node in nodes:
            assert len(node["inputs"]) == 2 and all(entry["from"] < node["node"] for entry in node["inputs"])
            assert all(entry["operation"] != "none" and 0 < entry["weight"] <= 1 for entry in node["inputs"])
        edges = record[kind]["edges"]
        assert len(edges) == 2 + 3 + 4
        assert all(sum(edge["weights"].values()) == pytest.approx(1, abs=1e-4) for edge in edges)
        # A node keeps its two strongest edges, each with its strongest operation other than none.
        for node in nodes:
            strength = {e["from"]: max((w, op) for op, w in e["weights"].items() if op != "none")
                        for e in edges if e["to"] == node["node"]}
            kept = {entry["from"] for entry in node["inputs"]}
            assert min(strength[k][0] for k in kept) >= max((w for k, (w, _) in strength.items() if k not in kept), default=0)
            assert all(entry["operation"] == strength[entry["from"]][1] for entry in node["inputs"])


def test_a_saved_architecture_rebuilds_the_same_network(tmp_path):
    path = tmp_path / "architecture.json"
    path.write_text(json.dumps(searched_record()))
    genotype = read_architecture(path)
    assert genotype == read_architecture(path) and len(genotype.cells) == 3

    torch.manual_seed(0)
    first = make_backbone("searched", 1, 28, architecture_file=str(path))
    second = SearchedNetwork(1, read_architecture(path))
    second.load_state_dict(first.state_dict())  # the same names and shapes: the same network
    images = torch.rand(6, 1, 28, 28)
    for mode in (True, False):  # batch norm on the batch, then on the running statistics
        first.train(mode)
        second.train(mode)
        assert torch.equal(first(images), second(images))
    assert first(images).shape == (6, first.feature_dim)
    with_stats, stats = first.forward_with_stats(images)
    again, _ = second.forward_with_stats(images[:2], stats)  # the support set's statistics for other images
    assert torch.allclose(again, first.forward_with_stats(images[:2], stats)[0])
    assert torch.allclose(with_stats, first.train()(images), atol=1e-5)  # batch norm on the batch's own statistics
    # Saved again, the architecture reads back the same.
    copy = tmp_path / "copy.json"
    copy.write_text(json.dumps(first.architecture_record()))
    assert read_architecture(copy) == genotype


def damaged(record: dict, change) -> str:
    record = json.loads(json.dumps(record))
    change(record)
    return json.dumps(record)


DAMAGE = {
    "not JSON": lambda good: "{half a file",
    "not UTF-8": lambda good: b"\xff\xfe\x00garbage",
    "wrong format": lambda good: damaged(good, lambda r: r.update(format="darts-genotype")),
    "wrong version": lambda good: damaged(good, lambda r: r.update(version=2)),
    "unknown operation": lambda good: damaged(good, lambda r: r["normal"]["nodes"][1]["inputs"][0].update(operation="conv_9x9")),
    "none kept": lambda good: damaged(good, lambda r: r["reduce"]["nodes"][0]["inputs"][0].update(operation="none")),
    "node index out of range": lambda good: damaged(good, lambda r: r["normal"]["nodes"][0]["inputs"][1].update({"from": 5})),
    "negative node index": lambda good: damaged(good, lambda r: r["normal"]["nodes"][2]["inputs"][1].update({"from": -1})),
    "one input": lambda good: damaged(good, lambda r: r["normal"]["nodes"][2]["inputs"].pop()),
    "huge layout": lambda good: damaged(good, lambda r: r.update(channels=10**9)),
    "nodes of another count": lambda good: damaged(good, lambda r: r.update(nodes=4)),
    "a list": lambda good: "[1, 2, 3]",
    "deep nesting": lambda good: "[" * 5000 + "]" * 5000,
    "huge file": lambda good: " " * (2 * 2**20) + "{}",
}


@pytest.mark.parametrize("kind", sorted(DAMAGE))
def test_a_damaged_or_hostile_architecture_file_is_refused_in_one_sentence_naming_it(kind, tmp_path):
    path = tmp_path / "architecture.json"
    content = DAMAGE[kind](searched_record())
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(ConfigError) as refused:
        read_architecture(path)
    message = str(refused.value)
    assert str(path) in message and "\n" not in message and message.endswith(".")
    # The same sentence when an algorithm is built on it.
    with pytest.raises(ConfigError, match="architecture"):
        catalogue.get("protonet")(1, 28, {"backbone": "searched", "backbone_architecture": str(path)})


def test_the_searched_backbone_needs_its_file_and_the_file_needs_the_searched_backbone(tmp_path):
    with pytest.raises(ConfigError, match="set backbone_architecture"):
        catalogue.get("protonet")(1, 28, {"backbone": "searched"})
    path = tmp_path / "architecture.json"
    path.write_text(json.dumps(searched_record()))
    with pytest.raises(ConfigError, match="only builds the 'searched' backbone, not 'conv4'"):
        catalogue.get("maml")(1, 28, {"backbone_architecture": str(path)})
    with pytest.raises(ConfigError, match="existing file"):
        catalogue.get("maml")(1, 28, {"backbone": "searched", "backbone_architecture": str(tmp_path / "none.json")})


def test_a_run_folder_refuses_an_algorithm_file_that_is_not_a_plain_json_name(tmp_path):
    folder = RunFolder(tmp_path)
    for name in ("../outside.json", "config.json", "model.pt", ".hidden.json", "sub/dir.json"):
        with pytest.raises(RunFolderError, match="only a plain .json file name"):
            folder.save_model({}, {name: {}})
    assert not (tmp_path.parent / "outside.json").exists()


# --- through main.py --------------------------------------------------------------------------------
def test_a_search_saves_its_cell_and_protonet_and_maml_train_on_it(glyphs_shared, tmp_path):
    search = tmp_path / "search"
    result = main_py("train", "--data", glyphs_shared, "--algorithm", "metanas", *SHORT_RUN, *TINY_SEARCH, "--out", search)
    assert result.returncode == 0, result.stderr
    architecture = search / "architecture.json"
    found = read_architecture(architecture)  # beside model.pt, and readable
    assert (search / "model.pt").exists() and (found.cells, found.nodes, found.channels) == (("reduce", "normal"), 2, 4)
    assert json.loads(architecture.read_text())["operations"][0] == "none"

    for algorithm in ("protonet", "maml"):
        run = tmp_path / algorithm
        result = main_py("train", "--data", glyphs_shared, "--algorithm", algorithm, *SHORT_RUN, "--set", "backbone=searched",
                         "--set", f"backbone_architecture={architecture}", "--out", run)
        assert result.returncode == 0, result.stderr
        assert json.loads((run / "status.json").read_text())["status"] == "completed"
        assert read_architecture(run / "architecture.json") == found  # the run keeps the cell it was built on
        evaluated = main_py("evaluate", run, "--episodes", 3, "--json")
        assert evaluated.returncode == 0, evaluated.stderr


def test_metanas_is_listed_with_its_settings_and_every_backbone_setting_offers_searched():
    listed = {item["name"]: item for item in json.loads(main_py("algorithms", "--json").stdout)}
    settings = {p["name"]: p for p in listed["metanas"]["hyperparameters"]}
    assert {"cells", "nodes", "channels", "operations", "arch_inner_lr", "arch_meta_lr", "temperature",
            "final_temperature"} <= set(settings)
    assert settings["operations"]["choices"] == ["darts", "separable", "pooling"]
    for name in ("protonet", "maml", "anil", "reptile"):
        declared = {p["name"]: p for p in listed[name]["hyperparameters"]}
        assert "searched" in declared["backbone"]["choices"] and declared["backbone_architecture"]["type"] == "path"
