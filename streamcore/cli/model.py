"""Model changes at the command line: ``check-config --against APP`` and ``setup``'s check.

``setup`` stores the model it set the application up with; both commands compare a
configuration's model with it (``streamcore.model.changes``) and list each change with what
it needs. ``setup`` applies safe changes (storing the new model) and refuses unsafe ones
unless ``--accept-unreadable`` is given.
"""

from __future__ import annotations

import sys

import click

from streamcore.config import AppConfig
from streamcore.model.changes import ModelChange, diff_models, model_document
from streamcore.settings import Settings


def pending_changes(
    settings: Settings, app_name: str, config: AppConfig
) -> list[ModelChange] | None:
    """Changes from ``app_name``'s stored model to ``config``'s; None if none is stored.
    Exits with a one-line error when Cassandra cannot be reached."""
    from streamcore.errors import StateError
    from streamcore.state.model_store import stored_model_of

    try:
        stored = stored_model_of(settings, app_name)
    except StateError as exc:
        click.echo(f"error: reading {app_name}'s stored model: {exc}", err=True)
        sys.exit(1)
    if stored is None:
        return None
    return diff_models(stored, model_document(config.model_spec))


def echo_changes(changes: list[ModelChange], app_name: str) -> None:
    """One line per change: ``unsafe``/``safe``, the path, what changed and what it needs."""
    if not changes:
        click.echo(f"model: unchanged from the one {app_name} stored")
    for change in changes:
        click.echo(f"model: {'safe' if change.safe else 'UNSAFE'}: {change}")
