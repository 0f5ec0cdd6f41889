"""Labels that look wrong: a mark lasts while the label the audit saw does, and relabelling reverts exactly."""

import pytest

from workbench.labelling import operations as ops
from workbench.labelling.session import HUMAN, Label, LabellingError, LabelSession
from workbench.labelling.suspects import Suspect, current_suspects, relabel_as_likely


def session() -> LabelSession:
    s = LabelSession("/f", ["a.png", "b.png", "c.png"], ["bar", "post"])
    s.labels = {"a.png": Label("bar"), "b.png": Label("bar"), "c.png": Label("post")}
    return s


def test_a_mark_lasts_while_the_audited_label_does_and_relabelling_reverts():
    s = session()
    doubts = {"b.png": Suspect("bar", "post", 0.93), "c.png": Suspect("bar", "post", 0.9)}  # c's label changed since
    assert list(current_suspects(s, doubts)) == ["b.png"]
    with pytest.raises(LabellingError, match="None of the selected"):
        relabel_as_likely(s, doubts, ["a.png", "c.png"])
    fix = relabel_as_likely(s, doubts, ["a.png", "b.png"])
    assert fix.text == "Relabel 1 image as 'post'"
    fix.apply(s)
    assert s.labels["b.png"] == Label("post", HUMAN) and current_suspects(s, doubts) == {}
    fix.revert(s)
    assert s.labels["b.png"] == Label("bar") and list(current_suspects(s, doubts)) == ["b.png"]
    ops.remove_class(s, "post").apply(s)  # the class it looks like is gone: nothing to offer
    assert current_suspects(s, doubts) == {}
