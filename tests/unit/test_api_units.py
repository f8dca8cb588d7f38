"""Pure pieces of the API: planning tasks from data-points, the route-template label."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from streamcore.api.app import route_template
from streamcore.api.publisher import plan_tasks
from streamcore.config import load_config
from streamcore.limits import Limits, TaskValidator
from streamcore.model.datapoint import DataPoint

MODEL = load_config(Path(__file__).resolve().parents[2] / "config").model_spec


def _plan(points: list[DataPoint], limits: Limits | None = None) -> Any:
    return plan_tasks(MODEL, TaskValidator(MODEL, limits), points)


def test_tasks_are_grouped_per_entity_in_request_order() -> None:
    tasks, problem = _plan(
        [
            DataPoint("ip", "192.0.2.1", "note", "a"),
            DataPoint("person", "7", "name", "Ann"),
            DataPoint("ip", "192.0.2.1", "asn", 1),
        ]
    )
    assert problem is None
    assert [(t.etype, str(t.eid), [dp.attr for dp in t.data_points]) for t in tasks] == [
        ("ip", "192.0.2.1", ["note", "asn"]),
        ("person", "7", ["name"]),
    ]
    assert tasks[1].eid == 7  # normalized by the model (int ids)


@pytest.mark.parametrize(
    ("point", "field"),
    [
        (DataPoint("nope", "1", "x", 1), "type"),
        (DataPoint("ip", "192.0.2.1", "nope", 1), "attr"),
        (DataPoint("ip", "x", "note", "a"), "id"),
        (DataPoint("ip", "192.0.2.1", "asn", "many"), "v"),
        (DataPoint("ip", "192.0.2.1", "risk", "extreme"), "v"),
    ],
)
def test_the_first_bad_data_point_is_named_by_index_and_field(point: DataPoint, field: str) -> None:
    tasks, problem = _plan([DataPoint("ip", "192.0.2.1", "note", "ok"), point])
    assert tasks == []
    assert problem is not None and (problem.index, problem.field) == (1, field)


def test_a_bad_data_point_inside_an_entity_group_is_named_by_its_request_index() -> None:
    """Each entity's task is validated once; a failure names the first bad data-point of
    the request, not the group."""
    tasks, problem = _plan(
        [
            DataPoint("ip", "192.0.2.1", "note", "ok"),
            DataPoint("ip", "192.0.2.2", "asn", 1),
            DataPoint("ip", "192.0.2.2", "asn", 2),
            DataPoint("ip", "192.0.2.1", "asn", "many"),
            DataPoint("ip", "192.0.2.2", "asn", "also bad"),
        ]
    )
    assert tasks == []
    assert problem is not None and (problem.index, problem.field) == (3, "v")


def test_a_task_over_max_data_points_is_left_for_encode_to_refuse() -> None:
    points = [DataPoint("ip", "192.0.2.1", "note", str(n)) for n in range(3)]
    tasks, problem = _plan(points, Limits(max_data_points=2))
    assert problem is None and len(tasks[0].data_points) == 3


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b"[{", {"type": "json_invalid", "loc": ("body", 2), "msg": "JSON decode error"}),
        (b"", {"type": "missing", "loc": ("body",), "msg": "Field required"}),
        (b'{"type": "ip"}', {"type": "list_type", "loc": ("body",)}),
        (b'[{"type": "ip", "attr": "a", "v": 1}]', {"type": "missing", "loc": ("body", 0, "id")}),
        (
            b'[{"type": "ip", "id": 1, "attr": "a", "v": 1, "c": 2}]',
            {"type": "less_than_equal", "loc": ("body", 0, "c")},
        ),
    ],
)
def test_a_bad_body_gets_fastapis_own_422_errors(body: bytes, error: dict[str, Any]) -> None:
    from fastapi.exceptions import RequestValidationError

    from streamcore.api.routers.root import parse_datapoints

    with pytest.raises(RequestValidationError) as raised:
        parse_datapoints(body)
    first = raised.value.errors()[0]
    assert {key: first[key] for key in error} == error


def test_value_over_the_limit_is_a_problem_naming_the_setting() -> None:
    _, problem = _plan([DataPoint("ip", "192.0.2.1", "note", "x" * 50)], Limits(max_value_bytes=10))
    assert problem is not None and "max_value_bytes" in problem.message


class _Route:
    def __init__(self, path: str) -> None:
        self.path = path


class _Request:
    def __init__(self, path: str, route: str | None, root: str = "") -> None:
        self.scope = {"route": _Route(route) if route else None, "root_path": root}
        full = path if root.endswith("-not-in-path") else root + path
        self.url = type("U", (), {"path": full})()


@pytest.mark.parametrize(
    ("path", "route", "root", "label"),
    [
        ("/entity/ip/get", "/{etype}/get", "", "/entity/{etype}/get"),
        ("/v2/entity/ip/", "/{etype}/", "", "/v2/entity/{etype}/"),
        ("/datapoints", "/datapoints", "", "/datapoints"),
        ("/", "/", "", "/"),
        (
            "/entity/ip/1.2.3.4/get/note",
            "/{etype}/{eid}/get/{attr}",
            "/api",
            "/entity/{etype}/{eid}/get/{attr}",
        ),
        ("/nowhere", None, "", "unmatched"),
        ("/entity/ip/get", "/{etype}/get", "/api-not-in-path", "/entity/{etype}/get"),
    ],
)
def test_route_template_is_a_bounded_label(
    path: str, route: str | None, root: str, label: str
) -> None:
    assert route_template(_Request(path, route, root)) == label  # type: ignore[arg-type]
