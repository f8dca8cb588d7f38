"""``python -m streamcore.cli``: the same command as ``streamcore``."""

from streamcore.cli import main

main()
