"""The window's state without Qt: every setting a person can make survives Save and Open project, a damaged
setting is dropped and named while the rest loads, and each change is an event a view can follow."""

import json
import string

from hypothesis import HealthCheck, given, settings, strategies as st

from workbench.projects.project import load_project
from workbench.projects.state import RULES, TrainingSettings, WorkbenchState, load_state, project_of

ALGORITHMS = {"protonet", "maml", "metanas"}


def value_for(rule):
    if rule in ("auto-or-bool",):
        return st.sampled_from(["auto", True, False])
    if rule == "bool":
        return st.booleans()
    if rule == "groups":
        return st.lists(st.text(string.ascii_letters + "_()é", min_size=1, max_size=12), max_size=4).map(tuple)
    if isinstance(rule, frozenset):
        return st.sampled_from(sorted(rule))
    if isinstance(rule[0], str):
        return st.sampled_from(rule)
    return st.integers(*rule)


trainings = st.fixed_dictionaries({name: value_for(rule) for name, rule in RULES.items()})
setting_values = st.one_of(st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=False, allow_infinity=False, allow_subnormal=False),
                           st.text(max_size=20))
algorithm_settings = st.dictionaries(st.sampled_from(sorted(ALGORITHMS)),
                                     st.dictionaries(st.text(string.ascii_lowercase + "_", min_size=1, max_size=10),
                                                     setting_values, max_size=4), max_size=3)
names = st.text(string.ascii_letters + string.digits + "-_ ", min_size=1, max_size=12).map(str.strip).filter(bool)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(training=trainings, algorithm=st.sampled_from(["", *sorted(ALGORITHMS)]), hparams=algorithm_settings,
       datasets=st.lists(names, max_size=3), session=st.one_of(st.just(""), names), run=st.one_of(st.just(""), names))
def test_any_state_survives_save_and_open(tmp_path_factory, training, algorithm, hparams, datasets, session, run):
    folder = tmp_path_factory.mktemp("project")
    state = WorkbenchState(datasets=tuple(str(folder / d) for d in datasets), runs_root=str(folder / "runs"),
                           training=TrainingSettings(**training), labelling_session=str(folder / session) if session else "",
                           labelling_run=str(folder / run) if run else "")
    state.algorithm.name, state.algorithm.settings = algorithm, hparams
    path = project_of(state, "p").save(folder / "p.fswproj")
    reopened = WorkbenchState()
    assert load_state(reopened, load_project(path), ALGORITHMS) == []
    assert reopened == state


def test_a_project_from_before_the_settings_were_kept_opens_with_its_invert_and_algorithm(tmp_path):
    """Its invert and algorithm are taken; the other settings stay as the window has them."""
    path = tmp_path / "old.fswproj"
    path.write_text(json.dumps({"format": 1, "name": "old", "datasets": [], "runs_root": "",
                                "settings": {"algorithm": "maml", "invert": True}}))
    state = WorkbenchState()
    state.training.ways = 7
    assert load_state(state, load_project(path), ALGORITHMS) == []
    assert state.algorithm.name == "maml" and state.training.invert is True and state.training.ways == 7


def test_damaged_settings_are_named_and_the_rest_loads(tmp_path):
    path = tmp_path / "damaged.fswproj"
    path.write_text(json.dumps({"format": 1, "settings": {
        "algorithm": "gone_plugin", "algorithm_settings": {"maml": {"inner_lr": 0.3}, "x": [1]},
        "training": {"ways": 1, "shots": 3, "purpose": "sell", "rotations": "yes", "test_groups": [1], "later": 5,
                     "steps": True, "channels": 2}}}))
    state = WorkbenchState()
    problems = load_state(state, load_project(path), ALGORITHMS)
    assert problems == ["the algorithm 'gone_plugin' (not installed here)", "'ways' (1)", "'purpose' ('sell')",
                        "'rotations' ('yes')", "'test_groups' ([1])", "'steps' (True)", "'channels' (2)"]
    assert state.training.shots == 3 and state.training.ways == 5 and state.training.steps == 1000
    assert state.algorithm.settings == {"maml": {"inner_lr": 0.3}} and state.algorithm.name == ""


def test_every_change_is_an_event_and_a_new_project_resets_in_place():
    state = WorkbenchState()
    heard = []
    state.training.events.steps.connect(lambda value: heard.append(("steps", value)))
    state.algorithm.events.name.connect(lambda value: heard.append(("algorithm", value)))
    state.training.steps = 150
    state.algorithm.name = "maml"
    training = state.training
    state.reset()
    assert state.training is training and training == TrainingSettings()  # the views' object, back to defaults
    assert heard == [("steps", 150), ("algorithm", "maml"), ("algorithm", ""), ("steps", 1000)]
