"""Counted nouns in the window's words: "1 class", "2 classes", "1,204 images".

One helper, so no label says "1 classes" or falls back on "image(s)".
"""

from __future__ import annotations

# English plurals that adding -s or -es does not make.
IRREGULAR = {"query": "queries", "entry": "entries", "category": "categories"}


def noun(count: int, singular: str, plural: str | None = None) -> str:
    """`singular` when `count` is one, else its plural (given, irregular, -es after s/x/ch/sh, or -s)."""
    if count == 1:
        return singular
    if plural is not None:
        return plural
    if singular in IRREGULAR:
        return IRREGULAR[singular]
    return singular + ("es" if singular.endswith(("s", "x", "ch", "sh")) else "s")


def counted(count: int, singular: str, plural: str | None = None) -> str:
    """`count` with thousands separators, then the noun that agrees with it."""
    return f"{count:,} {noun(count, singular, plural)}"
