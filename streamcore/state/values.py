"""Reading stored values back into canonical Python values, per attribute."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import orjson

from streamcore.model.modelspec import ModelSpec
from streamcore.model.spec import AttrSpecTimeseries
from streamcore.model.values import compile_parser, eid_parser

Reader = Callable[[str], Any]


class StoredValues:
    """One compiled reader per attribute: JSON text -> canonical value."""

    def __init__(self, model: ModelSpec) -> None:
        eid_parsers = {
            etype: eid_parser(spec.id_data_type.root) for etype, spec in model.entities.items()
        }
        self._eid = eid_parsers
        self._readers: dict[tuple[str, str], Reader] = {}
        for (etype, attr), spec in model.attributes.items():
            if isinstance(spec, AttrSpecTimeseries):
                series = {
                    name: compile_parser(s.data_type, eid_parsers)
                    for name, s in spec.series.items()
                }
                self._readers[etype, attr] = _series_reader(series)
            else:
                self._readers[etype, attr] = _reader(compile_parser(spec.data_type, eid_parsers))

    def read(self, etype: str, attr: str, text: str) -> Any:
        return self._readers[etype, attr](text)

    def reader(self, etype: str, attr: str) -> Reader | None:
        """The attribute's reader, or None if the model has no such attribute."""
        return self._readers.get((etype, attr))

    def knows(self, etype: str, attr: str) -> bool:
        return (etype, attr) in self._readers

    def eid(self, etype: str, text: str) -> Any:
        return self._eid[etype](text)


def _loads(text: str) -> Any:
    """orjson's parse (several times faster: this runs for every stored row read), with
    the standard library for what orjson refuses (NaN, integers beyond 64 bits)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def _reader(parse: Callable[[Any], Any]) -> Reader:
    return lambda text: parse(_loads(text))


def _series_reader(series: dict[str, Callable[[Any], Any]]) -> Reader:
    def read(text: str) -> Any:
        raw = _loads(text)
        return {
            name: [series[name](item) for item in items] if name in series else items
            for name, items in raw.items()
        }

    return read
