"""Fixed test episodes read from a JSON file, so two tools can be compared on the very same tasks.

The format (the one `../shared/data/omniglot/test_episodes_small1_vs_small2.json` uses):

    {"ways": 5, "shots": 1, "queries": 15,
     "episodes": [[["Alphabet/character03", [16, 15, 12, ...]], ...], ...]}

Each episode lists its classes; each class is named by its folder path inside
the dataset (the class key) and gives indices into that class's images sorted
by file name: the first `shots` are the support set, the rest are queries.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch

from workbench.data.cache import ImageCache
from workbench.data.episode import Episode
from workbench.data.pixels import to_model_pixels
from workbench.data.sources import DatasetScan
from workbench.errors import DataError
from workbench.files import EPISODES_LIMIT, read_json


@dataclass(frozen=True)
class EpisodeFile:
    """The parsed file: the protocol and, per episode, (class key, image indices) for each way."""

    path: str
    ways: int
    shots: int
    queries: int
    episodes: tuple[tuple[tuple[str, tuple[int, ...]], ...], ...]


def read_episode_file(path: str) -> EpisodeFile:
    """Parse and check the file; every problem names the file and the place in it."""
    where = Path(path).name
    try:
        data = read_json(path, EPISODES_LIMIT, DataError, "fixed-episode file")
    except FileNotFoundError:
        raise DataError(f"Episode file not found: {path}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"{where}: not a readable JSON file ({exc}).") from None
    if not isinstance(data, dict):
        raise DataError(f"{where}: expected a JSON object with 'ways', 'shots', 'queries' and 'episodes'.")
    numbers = {}
    for field in ("ways", "shots", "queries"):
        value = data.get(field)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise DataError(f"{where}: field '{field}' must be a positive whole number, not {value!r}.")
        numbers[field] = value
    raw = data.get("episodes")
    if not isinstance(raw, list) or not raw:
        raise DataError(f"{where}: field 'episodes' must be a non-empty list.")
    per_class = numbers["shots"] + numbers["queries"]
    episodes = []
    for e, episode in enumerate(raw):
        if not isinstance(episode, list) or len(episode) != numbers["ways"]:
            raise DataError(f"{where}: episode {e} must list {numbers['ways']} classes.")
        classes = []
        for c, item in enumerate(episode):
            ok = (isinstance(item, list) and len(item) == 2 and isinstance(item[0], str) and isinstance(item[1], list)
                  and len(item[1]) == per_class and all(isinstance(i, int) and i >= 0 for i in item[1]))
            if not ok:
                raise DataError(f"{where}: episode {e}, class {c} must be [\"class/key\", [{per_class} image indices]].")
            if len(set(item[1])) != len(item[1]):
                # A query that is also a support image (or an image used twice) scores itself: a false 100%.
                shown = next(i for i in item[1] if item[1].count(i) > 1)
                role = "both a support and a query image" if item[1].index(shown) < numbers["shots"] <= \
                    len(item[1]) - 1 - item[1][::-1].index(shown) else "listed twice"
                raise DataError(f"{where}: episode {e}, class {c} ('{item[0]}'): image {shown} is {role}; "
                                f"every image of an episode must be a different one.")
            classes.append((item[0], tuple(item[1])))
        keys = [key for key, _ in classes]
        if len(set(keys)) != len(keys):
            twice = next(k for k in keys if keys.count(k) > 1)
            raise DataError(f"{where}: episode {e} lists the class '{twice}' twice; the classes of an episode "
                            f"must be different ones.")
        episodes.append(tuple(classes))
    return EpisodeFile(str(path), numbers["ways"], numbers["shots"], numbers["queries"], tuple(episodes))


class FixedEpisodes:
    """Serves the file's episodes in order from a decoded dataset, with the sampler's `sample()`."""

    def __init__(self, spec: EpisodeFile, scan: DatasetScan, cache: ImageCache, invert: bool = False) -> None:
        self.spec = spec
        self.invert = invert
        self.next_index = 0
        self.problems: list = []  # the file is checked whole on reading; nothing is left out quietly
        row_of_path = {path: row for row, path in enumerate(cache.image_paths)}
        entries = {entry.key: entry for entry in scan.classes}
        where = Path(spec.path).name
        self._rows: list[list[list[int]]] = []
        for e, episode in enumerate(spec.episodes):
            rows = []
            for key, indices in episode:
                entry = entries.get(key) or _by_suffix(entries, key)
                if entry is None:
                    raise DataError(f"{where}: episode {e} names class '{key}', which is not in the data.")
                class_rows = []
                for i in indices:
                    if i >= len(entry.images):
                        raise DataError(f"{where}: episode {e} asks for image {i} of '{key}', which has {len(entry.images)}.")
                    row = row_of_path.get(entry.images[i].display_path)
                    if row is None:
                        raise DataError(f"{where}: image {i} of '{key}' could not be read (see the data problems).")
                    class_rows.append(row)
                rows.append(class_rows)
            self._rows.append(rows)
        self.cache = cache

    def __len__(self) -> int:
        return len(self._rows)

    @property
    def distinct_classes(self) -> int:
        return len({key for episode in self.spec.episodes for key, _ in episode})

    def sample(self) -> Episode:
        """The next episode of the file (wrapping round after the last)."""
        rows = self._rows[self.next_index % len(self._rows)]
        names = tuple(key for key, _ in self.spec.episodes[self.next_index % len(self._rows)])
        self.next_index += 1
        shots = self.spec.shots
        support = [r for class_rows in rows for r in class_rows[:shots]]
        query = [r for class_rows in rows for r in class_rows[shots:]]
        labels = torch.arange(len(rows))
        return Episode(
            support_x=to_model_pixels(self.cache.gather(support), self.invert),
            support_y=labels.repeat_interleave(shots),
            query_x=to_model_pixels(self.cache.gather(query), self.invert),
            query_y=labels.repeat_interleave(self.spec.queries),
            class_names=names,
            support_rows=tuple(support),
            query_rows=tuple(query),
            class_turns=(0,) * len(rows),
        )


def _by_suffix(entries: dict, key: str):
    """A class whose key ends with `key` (datasets combined under a common folder), if exactly one does."""
    matches = [entry for k, entry in entries.items() if k.endswith("/" + key)]
    return matches[0] if len(matches) == 1 else None
