"""Whether the hand-compiled Avro paths pay for themselves: ``codec.binary`` (the writer)
and ``codec.reader`` (the reader) against fastavro on the same tasks and the same schema.

    .venv/bin/python bench/codec.py [--datapoints 200000] [--per-task 10] [--rounds 3]

The compiled paths are a second representation of ``datapoint_task.avsc`` (unit tests hold
them byte-identical to, and value-equal with, fastavro's): they stay only while this bench
shows they are clearly faster. Each round times the four in turn (fastavro write, compiled
write, fastavro read, compiled read: A B A B across rounds) on tasks built before the clock
starts, and prints microseconds per data-point, median [min-max] of the rounds, and the
ratio fastavro / compiled. CPU time of this process (``time.process_time``), so other load
on the machine changes the figures less than wall time would.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable

from produce import build

from streamcore.codec import TaskEncoder
from streamcore.codec.tasks import TaskDecoder
from streamcore.config import load_config
from streamcore.config.samples import EXAMPLE_CONFIG_DIR
from streamcore.model import DataPointTask


def per_datapoint(run: Callable[[], object], datapoints: int) -> float:
    started = time.process_time()
    run()
    return (time.process_time() - started) / datapoints * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datapoints", type=int, default=200_000)
    parser.add_argument("--per-task", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    model = load_config(EXAMPLE_CONFIG_DIR).model_spec
    encoder, decoder = TaskEncoder(model), TaskDecoder(model)
    tasks: list[DataPointTask] = [
        model.validate_task(t) for t in build(args.datapoints, args.per_task)
    ]
    count = sum(len(t.data_points) for t in tasks)
    payloads = [encoder.encode(t) for t in tasks]
    # The two paths must agree before their speeds mean anything.
    assert all(
        encoder.encode_reference(t) == p for t, p in zip(tasks[:100], payloads[:100], strict=True)
    )
    assert all(decoder.read(p) == decoder.read_reference(p) for p in payloads[:100])

    timed: dict[str, Callable[[], object]] = {
        "write fastavro": lambda: [encoder.encode_reference(t) for t in tasks],
        "write compiled": lambda: [encoder.encode(t) for t in tasks],
        "read fastavro": lambda: [decoder.read_reference(p) for p in payloads],
        "read compiled": lambda: [decoder.read(p) for p in payloads],
    }
    results: dict[str, list[float]] = {name: [] for name in timed}
    for _ in range(args.rounds):
        for name, run in timed.items():
            results[name].append(per_datapoint(run, count))

    print(
        f"{count:,} data-points in tasks of {args.per_task}, {args.rounds} rounds, "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    for name, values in results.items():
        low, high = min(values), max(values)
        print(f"{name:<16} {statistics.median(values):6.2f} us/dp  [{low:.2f}-{high:.2f}]")
    for side in ("write", "read"):
        ratio = statistics.median(results[f"{side} fastavro"]) / statistics.median(
            results[f"{side} compiled"]
        )
        print(f"{side}: fastavro / compiled = {ratio:.2f}x")


if __name__ == "__main__":
    main()
