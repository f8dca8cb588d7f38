"""Data-point validators, compiled once per attribute when the model is loaded.

A check takes a ``DataPoint`` of its attribute, normalizes it in place (canonical value,
UTC times, default ``t2`` and ``c``) and raises ``ValueError`` with the rule broken. The
rules follow DP³: plain data-points carry no times; observations need ``t1``, ``t2 >= t1``
and ``0 <= c <= 1``; timeseries carry equally long series whose times fit in ``t1..t2``.
Beyond DP³, ``t1`` and ``t2`` must lie in the window of ``primitives.check_window``, so
every accepted data-point can be merged, given a TTL and stored.
``ModelSpec.validate_task`` adds entity, attribute and value to the message.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from streamcore.model.datapoint import DataPoint
from streamcore.model.primitives import check_window, parse_time
from streamcore.model.spec import (
    AttrSpecObservations,
    AttrSpecPlain,
    AttrSpecReadOnly,
    AttrSpecTimeseries,
)
from streamcore.model.values import Parser, compile_parser

DataPointCheck = Callable[[DataPoint], None]
AnyAttrSpec = AttrSpecPlain | AttrSpecObservations | AttrSpecTimeseries


def compile_check(spec: AnyAttrSpec, eid_parsers: Mapping[str, Parser]) -> DataPointCheck:
    """The validator of data-points of attribute ``spec``."""
    if isinstance(spec, AttrSpecReadOnly):
        return _read_only
    if isinstance(spec, AttrSpecTimeseries):
        return _timeseries(spec)
    parse = compile_parser(spec.data_type, eid_parsers)
    if isinstance(spec, AttrSpecObservations):
        return _observations(parse)
    return _plain(parse)


def _read_only(dp: DataPoint) -> None:
    raise ValueError("the attribute is read-only (filled by the platform)")


def _value(parse: Parser, value: Any) -> Any:
    try:
        return parse(value)
    except ValueError as exc:
        raise ValueError(f"v: {exc}") from None


def _src(src: Any) -> None:
    if src is not None and type(src) is not str:
        raise ValueError("src: expected a string")


def _times(dp: DataPoint) -> tuple[datetime, datetime]:
    """Parse t1 (required) and t2 (defaults to t1), check t1 <= t2, store them back."""
    if dp.t1 is None:
        raise ValueError("t1: required for observations and timeseries")
    try:
        t1 = parse_time(dp.t1)
    except ValueError as exc:
        raise ValueError(f"t1: {exc}") from None
    check_window("t1", t1)
    if dp.t2 is None or dp.t2 is dp.t1:
        t2 = t1
    else:
        try:
            t2 = parse_time(dp.t2)
        except ValueError as exc:
            raise ValueError(f"t2: {exc}") from None
        if t2 < t1:
            raise ValueError("t2 is before t1")
        check_window("t2", t2)
    dp.t1 = t1
    dp.t2 = t2
    return t1, t2


def _plain(parse: Parser) -> DataPointCheck:
    def check(dp: DataPoint) -> None:
        dp.v = _value(parse, dp.v)
        _src(dp.src)
        dp.t1 = dp.t2 = None
        dp.c = None

    return check


def _observations(parse: Parser) -> DataPointCheck:
    def check(dp: DataPoint) -> None:
        dp.v = _value(parse, dp.v)
        _times(dp)
        _src(dp.src)
        c = dp.c
        if c is None:
            dp.c = 1.0
        elif (type(c) is float or type(c) is int) and 0.0 <= c <= 1.0:
            dp.c = float(c)
        else:
            raise ValueError(f"c: confidence must be a number from 0.0 to 1.0, got {c!r}")

    return check


def _timeseries(spec: AttrSpecTimeseries) -> DataPointCheck:
    series = {name: compile_parser(s.data_type, {}) for name, s in spec.series.items()}
    names = ", ".join(series)
    time_rule = _TIME_RULES[spec.timeseries_type]
    step = spec.timeseries_params.time_step
    unstorable = spec.unstorable

    def check(dp: DataPoint) -> None:
        if unstorable is not None:
            raise ValueError(f"{unstorable} (db_entities): its data-points can't be stored")
        v = dp.v
        if not isinstance(v, dict):
            raise ValueError(f"v: expected an object of series {names}")
        if v.keys() != series.keys():
            missing = ", ".join(sorted(series.keys() - v.keys()))
            extra = ", ".join(sorted(v.keys() - series.keys()))
            raise ValueError(
                "v: "
                + "; ".join(
                    part
                    for part in (
                        f"missing series {missing}" if missing else "",
                        f"unknown series {extra}" if extra else "",
                    )
                    if part
                )
            )
        out: dict[str, list[Any]] = {}
        length = -1
        for name, parse in series.items():
            values = v[name]
            if not isinstance(values, list | tuple) or not values:
                raise ValueError(f"v: series '{name}' must be a non-empty array")
            parsed = []
            for index, item in enumerate(values):
                try:
                    parsed.append(parse(item))
                except ValueError as exc:
                    raise ValueError(f"v: series '{name}' item [{index}]: {exc}") from None
            if length not in (-1, len(parsed)):
                raise ValueError("v: series have different lengths")
            length = len(parsed)
            out[name] = parsed
        had_t2 = dp.t2 is not None
        _times(dp)
        dp.v = out
        _src(dp.src)
        dp.c = 1.0 if dp.c is None else dp.c
        time_rule(dp, out, length, step, had_t2)
        assert dp.t2 is not None
        check_window("t2", dp.t2)  # the rule may have derived it from the series

    return check


def _regular(
    dp: DataPoint, v: dict[str, list[Any]], length: int, step: timedelta | None, had_t2: bool
) -> None:
    assert step is not None and dp.t1 is not None  # checked when the spec was loaded
    try:
        expected = dp.t1 + length * step
    except OverflowError:
        raise ValueError(f"t2: t1 + {length} x time_step is past any representable time") from None
    if had_t2 and dp.t2 != expected:
        raise ValueError(f"t2 must be t1 + {length} x time_step = {expected.isoformat()}")
    dp.t2 = expected


def _irregular(
    dp: DataPoint, v: dict[str, list[Any]], length: int, step: timedelta | None, had_t2: bool
) -> None:
    _bounded(dp, v["time"], v["time"], had_t2, ("time", "time"))
    times = v["time"]
    if any(times[i] > times[i + 1] for i in range(len(times) - 1)):
        raise ValueError("v: series 'time' is not ordered")


def _irregular_intervals(
    dp: DataPoint, v: dict[str, list[Any]], length: int, step: timedelta | None, had_t2: bool
) -> None:
    first, last = v["time_first"], v["time_last"]
    _bounded(dp, first, last, had_t2, ("time_first", "time_last"))
    if any(a > b for a, b in zip(first, last, strict=True)):
        raise ValueError("v: time_first[i] <= time_last[i] isn't true for all i")


def _bounded(
    dp: DataPoint, first: list[datetime], last: list[datetime], had_t2: bool, names: tuple[str, str]
) -> None:
    """t1 <= the first time of ``names[0]``; t2 (or its default) >= the last of ``names[1]``."""
    fname, lname = names
    assert dp.t1 is not None and dp.t2 is not None
    if dp.t1 > first[0]:
        raise ValueError(f"t1 is after the first item of series '{fname}'")
    if not had_t2:
        dp.t2 = max(last)
    elif dp.t2 < last[-1]:
        raise ValueError(f"t2 is before the last item of series '{lname}'")


_TIME_RULES = {
    "regular": _regular,
    "irregular": _irregular,
    "irregular_intervals": _irregular_intervals,
}
