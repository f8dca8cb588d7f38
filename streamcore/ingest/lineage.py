"""How a task came to be: the chain of modules whose hooks derived it, in Kafka headers.

A task a data source sent has no lineage (zero hops). A task derived by a hook carries
its parent's chain plus the hook's module, so a hook that keeps triggering itself (or two
modules triggering each other) is cut after ``max_hops`` derivations: the task that would
exceed it is dead-lettered, with the chain, instead of flooding the input topic. Headers,
not the Avro payload, so primary producers and the schema are untouched.
"""

from __future__ import annotations

from dataclasses import dataclass

HOPS_HEADER = "streamcore.hops"
CHAIN_HEADER = "streamcore.chain"
CHAIN_KEPT = 16
"""Modules kept in a chain (the most recent): enough to name a loop, bounded in size."""


@dataclass(frozen=True, slots=True)
class Lineage:
    hops: int = 0
    chain: tuple[str, ...] = ()

    @classmethod
    def of(cls, headers: list[tuple[str, str | bytes | None]] | None) -> Lineage:
        """The lineage in a record's headers; none (or unreadable) is a source's task."""
        if not headers:
            return ROOT
        hops, chain = 0, ""
        for name, value in headers:
            text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
            if name == HOPS_HEADER:
                try:
                    hops = max(0, int(text or 0))
                except ValueError:
                    hops = 0
            elif name == CHAIN_HEADER and text:
                chain = text
        return cls(hops, tuple(chain.split(">")) if chain else ())

    def child(self, module: str | None) -> Lineage:
        """The lineage of a task derived from this one by ``module``'s hook."""
        return Lineage(self.hops + 1, (*self.chain, module or "?")[-CHAIN_KEPT:])

    def headers(self) -> list[tuple[str, str | bytes | None]]:
        return [
            (HOPS_HEADER, str(self.hops).encode()),
            (CHAIN_HEADER, ">".join(self.chain).encode()),
        ]

    def describe(self) -> str:
        return " > ".join(self.chain) if self.chain else "(source)"


ROOT = Lineage()
