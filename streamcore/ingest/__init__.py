"""Ingestion: tasks from the input topic applied to entity state, hooks run, tasks derived."""
