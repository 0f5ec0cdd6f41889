"""When the Label page adapts: requests coalesce, wait for the images, and stale results are dropped."""

from workbench.labelling.adapt_requests import AdaptRequests


def test_a_request_with_nothing_running_starts_at_once():
    requests = AdaptRequests()
    first = requests.request()
    assert first is not None and requests.running == first and requests.busy
    assert requests.finished(first)
    assert not requests.busy and not requests.take_waiting()
    second = requests.request()
    assert second is not None and second != first  # every adapt has its own id


def test_requests_while_one_runs_are_coalesced_into_one_follow_up():
    requests = AdaptRequests()
    first = requests.request()
    assert requests.request() is None  # labels changed while adapting: waits
    assert requests.request() is None
    assert requests.request() is None
    assert requests.busy
    assert not requests.take_waiting()  # not while the first still runs
    assert requests.finished(first)
    assert requests.take_waiting()  # one follow-up, however many asked
    assert not requests.take_waiting()
    follow_up = requests.request()
    assert follow_up is not None
    assert requests.finished(follow_up)
    assert not requests.take_waiting() and not requests.busy


def test_a_request_before_the_images_are_decoded_waits_for_them():
    requests = AdaptRequests()
    requests.loading()
    assert not requests.images_ready
    assert requests.request() is None
    assert requests.busy and not requests.take_waiting()
    assert requests.loaded()
    assert requests.images_ready
    assert requests.take_waiting()
    assert requests.request() is not None


def test_only_the_last_of_several_decodes_makes_the_images_ready():
    requests = AdaptRequests()
    requests.loading()
    requests.loading()  # another folder (or model) before the first decode ended
    requests.wait_for_images()  # Adapt pressed meanwhile
    assert not requests.loaded()
    assert not requests.take_waiting()
    assert requests.loaded()
    assert requests.take_waiting()
    assert not requests.loaded() or requests.images_ready  # an extra end never goes below zero
    assert requests.loads == 0


def test_a_superseded_result_is_dropped():
    requests = AdaptRequests()
    old = requests.request()
    requests.request()  # a follow-up was waiting for it
    requests.supersede()  # a new model: what the old one says no longer counts
    requests.loading()
    assert requests.busy
    assert not requests.finished(old)
    assert not requests.take_waiting()  # the follow-up went with the old model
    assert requests.loaded()
    new = requests.request()
    assert new is not None and new != old
    assert not requests.finished(old)  # an old id never counts for the new adapt
    assert requests.running == new
    assert requests.finished(new)


def test_a_result_counts_once():
    requests = AdaptRequests()
    first = requests.request()
    assert requests.finished(first)
    assert not requests.finished(first)


def test_an_explicit_wait_with_nothing_loading_is_taken_at_once():
    requests = AdaptRequests()
    requests.wait_for_images()
    assert requests.busy
    assert requests.take_waiting()
    assert not requests.busy
