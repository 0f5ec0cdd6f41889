"""Class names a person can tell apart: the class folder's name where that is unique in the view,
else group/class; long names elided in the middle (the full key goes in the tooltip)."""

from __future__ import annotations

from collections import Counter

MAX_CHARS = 24


def elide_middle(text: str, limit: int = MAX_CHARS) -> str:
    """`text` cut to `limit` characters around a '…', keeping its start and more of its end."""
    if len(text) <= limit:
        return text
    head = (limit - 1) // 3
    return text[:head] + "…" + text[len(text) - (limit - 1 - head):]


def display_names(keys: list[str]) -> dict[str, str]:
    """Short, unique names for class keys ('alphabet/character14' -> 'character14', or the whole key
    where two groups both have a 'character14')."""
    counts = Counter(key.rsplit("/", 1)[-1] for key in keys)
    names = {}
    for key in keys:
        last = key.rsplit("/", 1)[-1]
        names[key] = elide_middle(last if counts[last] == 1 else key)
    if len(set(names.values())) < len(names):  # eliding made two alike: show them whole
        names = {key: (key.rsplit("/", 1)[-1] if counts[key.rsplit("/", 1)[-1]] == 1 else key) for key in keys}
    return names
