"""Raw data-points archived off the request path.

``POST /datapoints`` answers once Kafka has the tasks; the raw copies (DP³'s raw
collection, for troubleshooting) and the sources' validity are written by one background
thread, a thousand data-points per round. The queue is bounded: when Cassandra falls
behind by more than ``capacity`` data-points, the newest raw copies are dropped (counted
in ``streamcore_api_raw_dropped_total`` and logged), never the data-points themselves.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence

from streamcore.errors import StateError
from streamcore.model.datapoint import DataPoint

log = logging.getLogger(__name__)

Write = Callable[[Sequence[DataPoint], int], None]


class RawArchive:
    def __init__(
        self,
        write: Write,
        ttl_seconds: int,
        capacity: int = 100_000,
        on_drop: Callable[[int], None] | None = None,
    ) -> None:
        self._write = write
        self._ttl = ttl_seconds
        self._queue: queue.Queue[list[DataPoint] | None] = queue.Queue(max(1, capacity // 100))
        self.on_drop = on_drop
        self._thread = threading.Thread(target=self._run, name="api-raw-archive", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def add(self, data_points: list[DataPoint]) -> None:
        try:
            self._queue.put_nowait(data_points)
        except queue.Full:
            if self.on_drop is not None:
                self.on_drop(len(data_points))
            log.warning("raw archive behind: %d raw data-points not archived", len(data_points))

    def _run(self) -> None:
        while True:
            rounds = [self._queue.get()]
            while rounds[-1] is not None and sum(len(r or []) for r in rounds) < 1000:
                try:
                    rounds.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            self._flush([dp for chunk in rounds for dp in chunk or []])
            for _ in rounds:
                self._queue.task_done()
            if rounds[-1] is None:
                return

    def _flush(self, points: list[DataPoint]) -> None:
        if not points:
            return
        try:
            self._write(points, self._ttl)
        except StateError as exc:
            if self.on_drop is not None:
                self.on_drop(len(points))
            log.warning("%d raw data-points not archived: %s", len(points), exc)

    def drain(self, timeout: float = 10.0) -> bool:
        """Wait until everything queued so far is written; False if ``timeout`` passed."""
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.01)
        return not self._queue.unfinished_tasks

    def close(self, timeout: float = 10.0) -> None:
        """Write what is queued (up to ``timeout``), then stop."""
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join(timeout)
