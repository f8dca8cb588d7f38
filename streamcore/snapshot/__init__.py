"""Snapshots: current values, linked entities, correlation hooks, runs, storage."""
