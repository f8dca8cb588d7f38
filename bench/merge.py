"""The history merge in one process: ``TaskProcessor`` over decoded tasks, no I/O, no hooks.

What the worker's apply step costs without Kafka and Cassandra around it, for two trees:
``--base DIR`` (another revision's tree, its ``.native`` built) runs as A and this tree as
B, alternated A B A B, each run in a fresh process. Loads:

* ``realistic``: ``bench/ingest.py``'s realistic load (Zipf over 1M entities);
* ``alternating``: ``--entities`` entities, each sent ``--tasks-per-entity`` tasks whose
  single-value observation (``open_ports``) alternates between two values a minute apart,
  so no two rows merge and a history grows by one row per task: the pass over the whole
  history makes this quadratic in the history's length.

Prints CPU seconds of the apply loop (median [min-max]) and whether both trees left the
very same rows (keys, values, times, confidences): the cheaper pass must not change them.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
MARK_CLEAN_EVERY = 200
"""Tasks between ``mark_clean`` calls: the worker's batch, after which its rows are written."""


def alternating_load(entities: int, tasks_per_entity: int, now: datetime) -> list[Any]:
    from streamcore.model.datapoint import DataPoint, DataPointTask

    t0 = now.replace(second=0, microsecond=0) - timedelta(days=2)
    tasks = []
    for k in range(tasks_per_entity):
        t = t0 + timedelta(minutes=k)
        for n in range(entities):
            ip = f"10.9.{n // 256}.{n % 256}"
            ports = [22] if k % 2 == 0 else [80]
            tasks.append(DataPointTask("ip", ip, [DataPoint("ip", ip, "open_ports", ports, t, t)]))
    return tasks


def child(tree: Path, load: str, args: argparse.Namespace) -> dict[str, Any]:
    sys.path.insert(0, str(tree))
    sys.path.insert(1, str(ROOT / "bench"))
    from ingest_load import encoded, realistic_load

    import streamcore

    assert Path(streamcore.__file__).resolve().is_relative_to(tree.resolve()), streamcore.__file__
    import gc

    from streamcore import native
    from streamcore.batch.gc_policy import THRESHOLDS
    from streamcore.codec.tasks import TaskDecoder
    from streamcore.config import load_config
    from streamcore.ingest.hook_runner import NoHooks
    from streamcore.ingest.processor import TaskProcessor
    from streamcore.state.encoding import eid_text
    from streamcore.state.record import EntityRecord

    config = load_config(ROOT / "config")
    if load == "realistic":
        tasks = realistic_load(args.tasks, 1_000_000, 1.1)
    else:
        tasks = alternating_load(args.entities, args.tasks_per_entity, args.now)
    decoder = TaskDecoder(config.model_spec)
    decoded = [decoder.decode(value) for _, value in encoded(tasks, config.model_spec)]
    del tasks
    processor = TaskProcessor(config.model_spec, NoHooks())
    records: dict[Any, EntityRecord] = {}
    now = args.now  # one for every run: plain values are stamped with it
    gc.set_threshold(*THRESHOLDS)
    started = time.process_time()
    for n, task in enumerate(decoded):
        key = (task.etype, task.eid)
        record = records.get(key)
        if record is None:
            record = records[key] = EntityRecord(task.etype, task.eid, eid_text(task.eid))
        processor.process(record, task, f"input:0:{n}", now)
        if n % MARK_CLEAN_EVERY == MARK_CLEAN_EVERY - 1:
            for each in records.values():
                each.mark_clean()
    cpu = time.process_time() - started
    digest = hashlib.sha256()
    rows = 0
    for key in sorted(records, key=str):
        for attr, attr_rows in sorted(records[key].attrs.items()):
            for row_key, row in sorted(attr_rows.items()):
                rows += 1
                digest.update(
                    repr((key, attr, row_key, row.v_json, row.t1, row.t2, row.c)).encode()
                )
    return {"cpu": cpu, "rows": rows, "digest": digest.hexdigest(), "native": native.status.reason}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--load", choices=["realistic", "alternating"], default="realistic")
    parser.add_argument("--tasks", type=int, default=20_000, help="realistic: tasks")
    parser.add_argument("--entities", type=int, default=20, help="alternating: entities")
    parser.add_argument("--tasks-per-entity", type=int, default=1000, help="alternating")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--base", type=Path, help="another revision's tree, run as system A")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--now", type=datetime.fromisoformat, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        print(json.dumps(child(args.child, args.load, args)))
        return 0
    systems = {"A": args.base, "B": ROOT} if args.base else {"B": ROOT}
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in systems}
    forwarded = [
        f"--now={datetime.now(UTC).isoformat()}",
        f"--load={args.load}",
        f"--tasks={args.tasks}",
        f"--entities={args.entities}",
        f"--tasks-per-entity={args.tasks_per_entity}",
    ]
    for round_ in range(args.rounds):
        for name, tree in systems.items():
            command = [sys.executable, __file__, *forwarded, f"--child={tree}"]
            out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
            result = json.loads(out.splitlines()[-1])
            results[name].append(result)
            print(f"round {round_ + 1} {name}: {result['cpu']:.2f} CPU-s ({result['native']})")
    print(f"\n{args.load} load: median [min-max] of {args.rounds} rounds, apply loop CPU-s")
    for name, runs in results.items():
        cpus = [r["cpu"] for r in runs]
        print(
            f"{name}  {statistics.median(cpus):.2f} [{min(cpus):.2f}-{max(cpus):.2f}] CPU-s, "
            f"{runs[0]['rows']} rows"
        )
    digests = {r["digest"] for runs in results.values() for r in runs}
    print("rows identical across trees and rounds:", "yes" if len(digests) == 1 else "NO")
    return 0 if len(digests) == 1 else 1


if __name__ == "__main__":
    sys.exit(main())
