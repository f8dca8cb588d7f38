"""What the hook time budget costs per hook call: the ingestion engine with and without it.

    .venv/bin/python bench/hook_budget.py [--calls 200000] [--rounds 5]

Runs ``IngestionHooks.run_new_attr`` with one trivial ``on_new_attr`` hook on the main
thread (as ``streamcore worker`` runs it, where the budget uses ``SIGALRM``), then the same
on a worker thread (where a watchdog thread watches it). Rounds alternate off / on so drift
on a shared machine hits both alike; prints the median and the best cost per call of each mode
and the difference: the budget's cost per hook call (target < 2 µs). No servers needed.
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
from collections.abc import Callable
from typing import Any

from streamcore.model import DataPoint
from streamcore.module import CallbackRegistrar
from streamcore.module.budget import HookBudget
from streamcore.module.dispatch import IngestionHooks
from streamcore.testing.config import model_spec_from_dicts

MODEL = model_spec_from_dicts(
    {
        "ip": {
            "entity": {"id": "ip", "name": "IP", "snapshot": False},
            "attribs": {"a": {"name": "a", "type": "plain", "data_type": "string"}},
        }
    }
)


def engine(budget: float) -> IngestionHooks:
    registrar = CallbackRegistrar(MODEL)
    registrar.register_on_new_attr_hook(lambda eid, dp: None, "ip", "a")
    return registrar.ingestion_hooks(budget=HookBudget(budget))


def per_call(hooks: IngestionHooks, calls: int) -> float:
    """Seconds per ``run_new_attr`` call, over ``calls`` calls."""
    dp = DataPoint("ip", "x", "a", "v")
    run = hooks.run_new_attr
    started = time.perf_counter()
    for _ in range(calls):
        run("ip", "x", dp)
    return (time.perf_counter() - started) / calls


def on_thread(fn: Callable[[], float]) -> float:
    out: list[float] = []
    thread = threading.Thread(target=lambda: out.append(fn()))
    thread.start()
    thread.join()
    return out[0]


def measure(
    label: str, calls: int, rounds: int, wrap: Callable[[Callable[[], float]], Any]
) -> None:
    off, on = engine(0), engine(10.0)
    times: dict[str, list[float]] = {"off": [], "on": []}
    for _ in range(rounds):
        times["off"].append(wrap(lambda: per_call(off, calls)))
        times["on"].append(wrap(lambda: per_call(on, calls)))
    for stat in (statistics.median, min):
        cost_off, cost_on = stat(times["off"]) * 1e6, stat(times["on"]) * 1e6
        print(
            f"{label}, {stat.__name__} of {rounds}: without budget {cost_off:.2f} µs/call, "
            f"with {cost_on:.2f} µs/call: the budget costs {cost_on - cost_off:.2f} µs a call"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    measure("main thread (SIGALRM)", args.calls, args.rounds, lambda fn: fn())
    measure("worker thread (watchdog)", args.calls, args.rounds, on_thread)


if __name__ == "__main__":
    main()
