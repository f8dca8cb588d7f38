"""``SharedFlag``: the ``refresh`` flag every module carries, with DP³'s API.

A module's flag is shared with the hooks it registered with ``refresh=self.refresh``: the
control action ``refresh_module_config`` reloads the module's configuration and sets the
flag, the next snapshot run re-executes those hooks while it is set, and the run's finalize
step unsets it again.
"""

from __future__ import annotations


class SharedFlag:
    """A bool that several objects hold by reference (``set``, ``unset``, ``isset``)."""

    __slots__ = ("_banner", "_flag")

    def __init__(self, flag: bool = False, banner: str = "") -> None:
        self._flag = flag
        self._banner = banner

    def set(self, flag: bool = True) -> None:
        """Set the flag to ``flag`` (True by default)."""
        self._flag = flag

    def unset(self) -> None:
        """Clear the flag."""
        self._flag = False

    def isset(self) -> bool:
        """Whether the flag is set."""
        return self._flag

    def __repr__(self) -> str:
        if self._banner:
            return f"SharedFlag({self._banner!r}, {self._flag!r})"
        return f"SharedFlag({self._flag!r})"

    def __str__(self) -> str:
        return str(self._flag)
