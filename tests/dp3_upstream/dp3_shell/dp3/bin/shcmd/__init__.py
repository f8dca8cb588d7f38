#!/usr/bin/env python3
"""Command families for the shell-oriented DP3 CLI."""
