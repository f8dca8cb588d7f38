"""CPU of merging the realistic load's tasks in-process: this tree against another one.

    .venv/bin/python bench/merge_history.py --base DIR [--rounds 3] [--tasks 20000]

Merges ``--tasks`` tasks of ``bench/ingest.py``'s realistic load (Zipf entities of 1M,
plain, observation and timeseries attributes) into in-memory records with
``TaskProcessor`` (no hooks, no I/O; every record kept, marked clean after each task as
a write would), in a child process per run: ``--base DIR`` (a checkout of another
revision, e.g. ``git archive main | tar -x -C DIR``) as system A, this tree as B,
alternated A B A B. Each child encodes and decodes the tasks with its own tree's codec
first, then times the merge loop alone (``time.process_time``: CPU of that process, so
the machine's other load counts less than in wall-clock). Reports the median [min-max]
CPU-seconds per system, the longest attribute history at the end, and a digest of every
record's rows (the same in both when the merges agree).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def child(tree: Path, tasks: int) -> dict[str, Any]:
    """One run, in this process, of ``tree``'s streamcore (imported from ``tree``)."""
    sys.path[:0] = [str(tree), str(ROOT / "bench")]
    import time
    from datetime import UTC, datetime

    from ingest_load import encoded, realistic_load

    import streamcore
    from streamcore.codec.tasks import TaskDecoder
    from streamcore.config import load_config
    from streamcore.ingest.processor import NoHooks, TaskProcessor
    from streamcore.state.encoding import eid_text
    from streamcore.state.record import EntityRecord

    assert Path(streamcore.__file__).resolve().is_relative_to(tree.resolve())
    model = load_config(ROOT / "config").model_spec
    decoder = TaskDecoder(model)
    decoded = [
        decoder.decode(value) for _, value in encoded(realistic_load(tasks, 10**6, 1.1), model)
    ]
    processor = TaskProcessor(model, NoHooks())
    records: dict[object, EntityRecord] = {}
    now = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)  # same in A, B
    started = time.process_time()
    for n, task in enumerate(decoded):
        key = (task.etype, task.eid)
        record = records.get(key)
        if record is None:
            record = records[key] = EntityRecord(task.etype, task.eid, eid_text(task.eid))
        processor.process(record, task, f"input:0:{n}", now)
        record.mark_clean()
    cpu = time.process_time() - started
    longest = max(len(rows) for record in records.values() for rows in record.attrs.values())
    digest = hashlib.blake2b(digest_size=8)
    for entity in sorted(records, key=repr):
        for attr, rows in sorted(records[entity].attrs.items()):
            digest.update(repr((entity, attr, sorted(rows.items(), key=repr))).encode())
    return {"cpu": cpu, "entities": len(records), "longest": longest, "digest": digest.hexdigest()}


def run(tree: Path, tasks: int) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(tree), "--tasks", str(tasks)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    result: dict[str, Any] = json.loads(out.splitlines()[-1])
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=Path, help="the other tree (system A)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tasks", type=int, default=20000)
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        print(json.dumps(child(args.child, args.tasks)))
        return 0
    systems = {"A (--base)": args.base, "B (this tree)": ROOT} if args.base else {"B": ROOT}
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in systems}
    for round_ in range(args.rounds):
        for name, tree in systems.items():
            result = run(tree, args.tasks)
            results[name].append(result)
            print(f"round {round_ + 1} {name}: {result['cpu']:.2f} CPU-s", flush=True)
    print(f"\n{args.tasks} tasks of the realistic load, median [min-max] of {args.rounds} rounds")
    for name, runs in results.items():
        cpus = [r["cpu"] for r in runs]
        print(
            f"{name}: {statistics.median(cpus):.2f} [{min(cpus):.2f}-{max(cpus):.2f}] CPU-s, "
            f"{runs[0]['entities']} entities, longest history {runs[0]['longest']} rows, "
            f"records digest {' '.join(sorted({r['digest'] for r in runs}))}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
