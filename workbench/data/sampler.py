"""Seeded, reproducible N-way K-shot Q-query episode sampling from an ImageCache."""

from __future__ import annotations

import numpy as np
import torch

from workbench.data import problems as P
from workbench.data.augment import Augmentation
from workbench.data.cache import ImageCache
from workbench.data.episode import Episode
from workbench.data.pixels import to_model_pixels
from workbench.data.problems import Problem
from workbench.data.views import describe as describe_view
from workbench.data.views import orient
from workbench.errors import DataError


class EpisodeSampler:
    """Draws episodes from a pool of class views (class index, quarter turns).

    Classes with fewer than shots + queries images are left out and reported in
    `problems`. Each class of an episode is rotated by its own view's turns, so
    a rotated class is a new class, never a rotated task. With an
    `augmentation`, every image also gets its own small random distortion
    (training only). With `invert`, the model sees 1 - x (see pixels.py). With `group_share`,
    that share of episodes draws all its classes from one group (an Omniglot alphabet, a
    family of look-alike classes) that has enough of them: such episodes ask for the fine
    distinctions a person's own folder of one kind of image asks for. The random state can
    be saved and restored, so a resumed run draws the same episodes.
    """

    def __init__(
        self,
        cache: ImageCache,
        pool: list[tuple[int, int]],
        ways: int,
        shots: int,
        queries: int,
        seed: int = 0,
        part_name: str = "",
        augmentation: Augmentation | None = None,
        invert: bool = False,
        group_share: float = 0.0,
    ) -> None:
        if ways < 2:
            raise DataError("An episode needs at least 2 ways (classes).")
        if shots < 1 or queries < 1:
            raise DataError("Shots and queries must each be at least 1.")
        self.cache = cache
        self.ways, self.shots, self.queries = ways, shots, queries
        self.problems: list[Problem] = []
        need = shots + queries
        small = sorted({c for c, _ in pool if len(cache.class_images[c]) < need})
        for c in small:
            self.problems.append(
                Problem(
                    P.TOO_FEW_IMAGES,
                    cache.class_keys[c],
                    f"has {len(cache.class_images[c])} images, fewer than shots + queries = {need}; left out",
                )
            )
        self.pool = [(c, k) for c, k in pool if c not in set(small)]
        distinct = len({c for c, _ in self.pool})
        if len(self.pool) < ways:
            where = f" in the {part_name} split" if part_name else ""
            message = (
                f"Only {len(self.pool)} usable classes{where} (with at least {need} images each), "
                f"fewer than the {ways} ways asked for."
            )
            if small:  # say what would help, not only what is missing
                largest = max(len(cache.class_images[c]) for c in small)
                message += (f" {len(small)} classes were left out for having fewer than shots + queries = "
                            f"{shots} + {queries} images (the largest of them has {largest}); "
                            f"ask for fewer shots or queries, or add images.")
            self.problems.append(Problem(P.TOO_FEW_CLASSES, part_name, message))
            raise DataError(message)
        self.distinct_classes = distinct
        self.rng = np.random.default_rng(seed)
        self.augmentation = augmentation
        self.invert = invert
        self.group_share = group_share
        self.group_pools = _group_pools(self.pool, cache.class_groups, ways) if group_share > 0 else []

    def _choose_views(self) -> list[tuple[int, int]]:
        # The rng is only asked about groups when they are used, so runs without them draw as before.
        if self.group_pools and self.rng.random() < self.group_share:
            # A group is picked in proportion to its views, so every view stays about equally likely.
            sizes = np.array([len(views) for views in self.group_pools], dtype=float)
            views = self.group_pools[self.rng.choice(len(sizes), p=sizes / sizes.sum())]
        else:
            views = self.pool
        return [views[i] for i in self.rng.choice(len(views), size=self.ways, replace=False)]

    def sample(self) -> Episode:
        support, query, names, support_rows, query_rows, turns_of = [], [], [], [], [], []
        for c, turns in self._choose_views():
            rows = self.cache.class_images[c]
            picked = rows[self.rng.choice(len(rows), size=self.shots + self.queries, replace=False)]
            images = self.cache.gather(picked)
            if turns:
                images = orient(images, turns)
            support_rows += picked[: self.shots].tolist()
            query_rows += picked[self.shots:].tolist()
            turns_of.append(int(turns))
            support.append(images[: self.shots])
            query.append(images[self.shots:])
            names.append(self.cache.class_keys[c] + describe_view(turns))
        labels = torch.arange(self.ways)
        support_x = to_model_pixels(torch.cat(support), self.invert)
        query_x = to_model_pixels(torch.cat(query), self.invert)
        # Distorted after inverting, so the border the affine fill repeats is the model's background.
        if self.augmentation is not None:
            support_x = self.augmentation.apply(support_x, self.rng)
            query_x = self.augmentation.apply(query_x, self.rng)
        return Episode(
            support_x=support_x,
            support_y=labels.repeat_interleave(self.shots),
            query_x=query_x,
            query_y=labels.repeat_interleave(self.queries),
            class_names=tuple(names),
            support_rows=tuple(support_rows),
            query_rows=tuple(query_rows),
            class_turns=tuple(turns_of),
        )

    def state_dict(self) -> dict:
        return {"bit_generator": self.rng.bit_generator.state}

    def load_state_dict(self, state: dict) -> None:
        self.rng.bit_generator.state = state["bit_generator"]


def _group_pools(pool: list[tuple[int, int]], class_groups: list[str], ways: int) -> list[list[tuple[int, int]]]:
    """The pool's views by group, for the groups with at least `ways` of them (ungrouped classes form none)."""
    by_group: dict[str, list[tuple[int, int]]] = {}
    for view in pool:
        group = class_groups[view[0]]
        if group:
            by_group.setdefault(group, []).append(view)
    return [views for _, views in sorted(by_group.items()) if len(views) >= ways]
