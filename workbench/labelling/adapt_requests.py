"""When to adapt: the bookkeeping between labels that change at any moment and adapting that takes a
while on another thread. No Qt here; the Label page asks this class and does what it answers.

Rules (tests/core/test_adapt_requests.py):
- one adapt runs at a time; requests made while it runs are coalesced into one follow-up, which
  runs with the labels as they are when it starts (the newest labels win; those between are skipped);
- a request made while the model's images are still being decoded waits for them;
- a new model or folder supersedes what runs: its result, when it comes, is dropped;
- a result is accepted once, for the adapt that is running, and never for an older one.
"""

from __future__ import annotations


class AdaptRequests:
    """Which adapt to start, and which results to keep.

    `request()` answers the id to start an adapt under now, or None when it waits (for the images or
    for the adapt in progress). `finished(id)` says whether that adapt's result (or error) is to be
    shown. After each finished adapt, and once the images are decoded, `take_waiting()` says whether
    a waiting request should be made again now (with the labels as they are then).
    """

    def __init__(self) -> None:
        self.last_id = 0
        self.running: int | None = None  # the adapt in progress
        self.waiting = False  # asked for, not started: after the running one, or once the images are decoded
        self.loads = 0  # decodes of the images for the model, started and not finished

    # --- decoding the images for the model ------------------------------------------
    @property
    def images_ready(self) -> bool:
        return self.loads == 0

    def loading(self) -> None:
        """A decode of the images for the (new) model or folder started."""
        self.loads += 1

    def loaded(self) -> bool:
        """A decode ended; True when it was the last one asked for (the images are ready now)."""
        self.loads = max(self.loads - 1, 0)
        return self.loads == 0

    # --- adapting -----------------------------------------------------------------
    def request(self) -> int | None:
        """Ask for an adapt. The id to start it under, or None: it waits and one follow-up comes."""
        if self.loads or self.running is not None:
            self.waiting = True
            return None
        self.last_id += 1
        self.running = self.last_id
        return self.running

    def wait_for_images(self) -> None:
        """Adapt once the images being decoded are ready (even if nothing else asks again)."""
        self.waiting = True

    def finished(self, request: int) -> bool:
        """The adapt `request` ended. True: it is the one running, show what it found. False: it was
        superseded (or already finished), drop its result."""
        if request != self.running:
            return False
        self.running = None
        return True

    def take_waiting(self) -> bool:
        """True (once) when a waiting request can start now: nothing runs and the images are ready."""
        if self.waiting and self.running is None and self.loads == 0:
            self.waiting = False
            return True
        return False

    def supersede(self) -> None:
        """A new model or folder: the adapt in progress no longer counts and nothing waits for it."""
        self.running = None
        self.waiting = False

    def clear(self) -> None:
        """Nothing runs, waits or decodes any more (those jobs were dropped); ids keep counting."""
        self.supersede()
        self.loads = 0

    @property
    def busy(self) -> bool:
        """An adapt is running or waiting, or the images are being decoded."""
        return self.running is not None or self.waiting or self.loads > 0
