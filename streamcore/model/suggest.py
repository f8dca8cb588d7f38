""" "Did you mean" for names a user typed: attributes, entity types, modules.

Pure and shared, so ``check-config``, ``produce``, the worker's dead-letter reasons and the
read commands word a misspelling the same way.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """``" (did you mean 'x'?)"`` for the closest candidate, or ``""`` when none is close."""
    close = difflib.get_close_matches(word, sorted(set(candidates)), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""
