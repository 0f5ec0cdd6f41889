"""What a person set in the window, as plain evented objects: the model the widgets show and write to.

The window's settings used to live only in its widgets, so a saved project kept the algorithm and
little else. Here they are data, without Qt: `TrainingSettings` (episodes, split, budget),
`AlgorithmChoice` (the algorithm and, for every algorithm a person touched, its settings) and
`WorkbenchState` around them with the datasets, the runs folder and the labelling session. Each is a
psygnal evented dataclass, so a view connects to `state.training.events.ways` and hears every change,
whoever made it (a spin box, Open project, New project). `to_record` / `state_from_record` are the
project file's "state"; reading a record keeps what is valid and names each setting it had to drop.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from psygnal import evented

from workbench.projects.project import Project
from workbench.runs.group_episodes import DEFAULT_GROUP_EPISODES
from workbench.runs.image_size import DEFAULT_IMAGE_SIZE

AUTO = "auto"
# Each training setting's range (whole numbers), its choices, or "auto-or-bool" / "bool" / "groups".
RULES: dict[str, Any] = {
    "ways": (2, 200), "shots": (1, 100), "queries": (1, 200), "train_ways": (0, 200), "image_size": (16, 512),
    "channels": frozenset({1, 3}), "rotations": "auto-or-bool", "mirror": "auto-or-bool", "invert": "auto-or-bool",
    "augment": "bool", "group_share": (0, 100), "purpose": ("use", "measure"), "split_mode": ("class", "group"),
    "val_percent": (0, 90), "test_percent": (0, 90), "test_groups": "groups", "steps": (1, 10_000_000),
    "meta_batch": (1, 256), "val_every": (1, 1_000_000), "val_episodes": (1, 100_000), "seed": (0, 2**31 - 1),
    "device": ("auto", "cpu", "cuda"),
}
MAX_GROUPS, MAX_ALGORITHMS, MAX_SETTING_TEXT = 10_000, 1_000, 4_096


@evented
@dataclass
class TrainingSettings:
    """The Training settings panel: episodes, image format, split and budget (RunConfig's fields, as shown)."""

    ways: int = 5
    shots: int = 1
    queries: int = 15
    train_ways: int = 0  # 0: the algorithm's choice
    image_size: int = DEFAULT_IMAGE_SIZE
    channels: int = 1
    rotations: bool | str = AUTO
    mirror: bool | str = AUTO
    invert: bool | str = AUTO
    augment: bool = True
    group_share: int = round(DEFAULT_GROUP_EPISODES * 100)  # percent of episodes drawn from one group
    purpose: str = "use"
    split_mode: str = "class"
    val_percent: int = 10
    test_percent: int = 0
    test_groups: tuple[str, ...] = ()
    steps: int = 1000
    meta_batch: int = 1
    val_every: int = 100
    val_episodes: int = 100
    seed: int = 0
    device: str = "auto"


@evented
@dataclass
class AlgorithmChoice:
    """The chosen algorithm, and per algorithm the settings a person gave it ({name: {setting: value}})."""

    name: str = ""
    settings: dict[str, dict[str, Any]] = field(default_factory=dict)


@evented
@dataclass
class WorkbenchState:
    """Everything a project keeps: data, runs folder, training and algorithm settings, labelling."""

    datasets: tuple[str, ...] = ()
    runs_root: str = ""
    training: TrainingSettings = field(default_factory=TrainingSettings)
    algorithm: AlgorithmChoice = field(default_factory=AlgorithmChoice)
    labelling_session: str = ""  # the session file open on the Label page, when it was saved to one
    labelling_run: str = ""  # the run the Label page adapts with

    def reset(self, training: TrainingSettings | None = None, algorithm: str = "") -> None:
        """A new project: every setting back to `training` (the defaults when None) and `algorithm`, in place, so
        that every view hears it. The algorithm comes first: choosing one may suggest its own number of steps."""
        self.algorithm.settings = {}
        self.algorithm.name = algorithm
        apply_training(self.training, training or TrainingSettings())
        self.datasets, self.labelling_session, self.labelling_run = (), "", ""


def project_of(state: WorkbenchState, name: str) -> Project:
    """The project file's content for this state (`Project.save` writes it)."""
    settings = {"algorithm": state.algorithm.name, "algorithm_settings": state.algorithm.settings,
                "training": training_record(state.training), "labelling_run": state.labelling_run,
                "invert": state.training.invert}  # where projects before these settings kept it
    sessions = [state.labelling_session] if state.labelling_session else []
    return Project(name=name, datasets=list(state.datasets), runs_root=state.runs_root,
                   labelling_sessions=sessions, settings=settings)


def load_state(state: WorkbenchState, project: Project, known_algorithms: set[str]) -> list[str]:
    """Put `project` into `state` in place (every view hears each change); returns what had to be dropped,
    one phrase each. A project from before the training settings were kept gives its invert and algorithm."""
    problems: list[str] = []
    saved = project.settings
    # The algorithm first: choosing one may suggest its own number of steps, which the project's then replace.
    choice = read_algorithm(saved.get("algorithm"), saved.get("algorithm_settings"), known_algorithms, problems)
    state.algorithm.settings = choice.settings
    if choice.name:
        state.algorithm.name = choice.name
    record = saved.get("training")
    if record is None:  # a project from before the settings were kept: its invert, the panel's other settings
        training = read_training({"invert": saved["invert"]} if "invert" in saved else {}, problems,
                                 base=state.training)
    else:
        training = read_training(record, problems)
    apply_training(state.training, training)
    state.datasets = tuple(project.datasets)
    state.runs_root = project.runs_root
    state.labelling_session = project.labelling_sessions[0] if project.labelling_sessions else ""
    run = saved.get("labelling_run", "")
    state.labelling_run = run if isinstance(run, str) and len(run) <= MAX_SETTING_TEXT else ""
    if run and not state.labelling_run:
        problems.append("the labelling run (not a path)")
    return problems


def training_record(settings: TrainingSettings) -> dict[str, Any]:
    record = {f.name: getattr(settings, f.name) for f in fields(TrainingSettings)}
    record["test_groups"] = list(settings.test_groups)
    return record


def apply_training(settings: TrainingSettings, other: TrainingSettings) -> None:
    """Copy `other` into `settings` field by field (each change is an event)."""
    for item in fields(TrainingSettings):
        setattr(settings, item.name, getattr(other, item.name))


def read_training(record: Any, problems: list[str], base: TrainingSettings | None = None) -> TrainingSettings:
    """TrainingSettings from a record: each valid field taken, each invalid or absent one as in `base` (the defaults
    when None), each invalid one named in `problems`."""
    settings = TrainingSettings()
    if base is not None:
        apply_training(settings, base)
    if not isinstance(record, dict):
        if record is not None:
            problems.append("the training settings (not an object)")
        return settings
    for name, value in record.items():
        rule = RULES.get(name)
        if rule is None:
            continue  # a setting of a later version: not ours to judge
        checked = _checked(value, rule)
        if checked is None:
            problems.append(f"'{name}' ({_shown(value)})")
        else:
            setattr(settings, name, checked)
    return settings


def read_algorithm(name: Any, settings: Any, known: set[str], problems: list[str]) -> AlgorithmChoice:
    """The algorithm choice from a record; `known` are the registered algorithms (a plugin may be gone)."""
    choice = AlgorithmChoice()
    if isinstance(name, str) and name in known:
        choice.name = name
    elif name not in (None, ""):
        problems.append(f"the algorithm {_shown(name)} (not installed here)")
    if isinstance(settings, dict) and len(settings) <= MAX_ALGORITHMS:
        choice.settings = {key: dict(values) for key, values in settings.items()
                           if isinstance(key, str) and isinstance(values, dict) and _plain(values)}
    elif settings is not None:
        problems.append("the algorithm settings (not an object of objects)")
    return choice


def _checked(value: Any, rule: Any) -> Any:
    """`value` if `rule` allows it (as the type the field holds), else None."""
    if rule == "auto-or-bool":
        return value if isinstance(value, bool) or value == AUTO else None
    if rule == "bool":
        return value if isinstance(value, bool) else None
    if rule == "groups":
        ok = isinstance(value, (list, tuple)) and len(value) <= MAX_GROUPS and all(isinstance(g, str) for g in value)
        return tuple(value) if ok else None
    if isinstance(rule, tuple) and isinstance(rule[0], str):
        return value if value in rule else None
    if isinstance(rule, frozenset):
        return value if isinstance(value, int) and not isinstance(value, bool) and value in rule else None
    low, high = rule
    return value if isinstance(value, int) and not isinstance(value, bool) and low <= value <= high else None


def _plain(values: dict) -> bool:
    """Settings values a form can take: numbers, booleans and short texts, keyed by name."""
    return all(isinstance(k, str) and (isinstance(v, (bool, int, float)) or isinstance(v, str) and
                                       len(v) <= MAX_SETTING_TEXT) for k, v in values.items())


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
