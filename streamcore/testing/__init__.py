"""Test helpers for module authors (filled in below)."""
