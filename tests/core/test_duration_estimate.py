"""Before Start, the workbench says how long a run will take, from the runs it has already made."""

from tests.core.test_runner import config_for
from workbench.runs.duration_estimate import estimate_duration, format_duration, seconds_per_step
from workbench.training.runner import run_to_end, train_run


def test_a_finished_run_predicts_the_next_one(glyphs_shared, tmp_path):
    runs = tmp_path / "runs"
    assert estimate_duration(runs, "protonet", 1000, 3, 1) is None  # nothing measured yet
    run_to_end(train_run(config_for(glyphs_shared, steps=30), runs / "first"))
    rate = seconds_per_step(runs / "first")
    assert rate is not None and rate > 0

    estimate = estimate_duration(runs, "protonet", 1000, 3, 1)
    assert estimate is not None and estimate.same_protocol and estimate.runs == 1
    assert abs(estimate.seconds - 1000 * rate) < 1e-6
    assert "from 1 earlier run, same ways and shots" in estimate.describe()

    other = estimate_duration(runs, "protonet", 500, 5, 5)  # only other protocols measured: still a guide
    assert other is not None and not other.same_protocol and abs(other.seconds - 500 * rate) < 1e-6
    assert estimate_duration(runs, "maml", 1000, 3, 1) is None  # another algorithm says nothing


def test_a_run_with_too_few_steps_or_a_damaged_table_is_not_used(glyphs_shared, tmp_path):
    runs = tmp_path / "runs"
    run_to_end(train_run(config_for(glyphs_shared, steps=5, val_every=5, checkpoint_every=5), runs / "short"))
    assert seconds_per_step(runs / "short") is None
    (runs / "short" / "metrics.csv").write_text("not,a,table\n1,2\n")
    assert seconds_per_step(runs / "short") is None
    assert estimate_duration(runs, "protonet", 100, 3, 1) is None


def test_durations_read_like_a_clock():
    assert format_duration(59.6) == "1:00"
    assert format_duration(114) == "1:54"
    assert format_duration(3 * 3600 + 5) == "3:00:05"
