"""How read commands print: aligned tables for a person, JSON for a pipe.

``--format auto`` (the default) picks ``table`` when stdout is a terminal and ``json``
otherwise, so ``streamcore entity get ... | jq`` works without a flag.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import click

FORMATS = ("auto", "table", "json")

format_option = click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="auto",
    show_default=True,
    help="table on a terminal, json when piped (auto), or either.",
)


def resolve(fmt: str) -> str:
    """``table`` or ``json``; ``auto`` asks whether stdout is a terminal."""
    if fmt != "auto":
        return fmt
    return "table" if sys.stdout.isatty() else "json"


def to_json(value: Any) -> str:
    """One JSON document; times as ISO 8601, anything else unusual as its text."""
    return json.dumps(value, default=_plain, sort_keys=True, ensure_ascii=False)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def cell(value: Any) -> str:
    """A table cell: times as ISO 8601 seconds, structures as compact JSON."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, float):
        return f"{value:g}"
    if not isinstance(value, dict | list | tuple | set | frozenset | bool):
        return str(value)  # text, numbers, addresses, MACs
    return json.dumps(value, default=_plain, ensure_ascii=False, separators=(", ", ": "))


def table(columns: Sequence[str], rows: Sequence[Sequence[Any]], width: int = 60) -> str:
    """Left-aligned columns under a header; cells cut at ``width`` characters."""
    texts = [[_cut(cell(value), width) for value in row] for row in rows]
    widths = [max([len(name), *(len(row[i]) for row in texts)]) for i, name in enumerate(columns)]
    lines = [columns, ["-" * w for w in widths], *texts]
    return "\n".join(
        "  ".join(text.ljust(w) for text, w in zip(line, widths, strict=True)).rstrip()
        for line in lines
    )


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
