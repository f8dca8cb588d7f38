"""What a model change needs: safe changes need nothing, unsafe ones name the stored data
that would become unreadable."""

from typing import Any

from streamcore.model.changes import diff_models, model_document
from streamcore.testing import model_spec_from_dicts


def model(attribs: dict[str, Any], id_type: str = "ipv4", extra: bool = False) -> Any:
    entities: dict[str, Any] = {
        "ip": {
            "entity": {"id": "ip", "name": "IP", "snapshot": True, "id_data_type": id_type},
            "attribs": {name: {"name": name, **spec} for name, spec in attribs.items()},
        }
    }
    if extra:
        entities["asn"] = {"entity": {"id": "asn", "name": "AS", "snapshot": True}, "attribs": {}}
    return model_document(model_spec_from_dicts(entities))


PLAIN = {"type": "plain", "data_type": "string"}
OBS = {"type": "observations", "data_type": "int"}
TS = {
    "type": "timeseries",
    "timeseries_type": "regular",
    "timeseries_params": {"time_step": "5m"},
    "series": {"bytes": {"data_type": "int"}},
}


def test_unchanged_model_has_no_changes() -> None:
    assert (
        diff_models(
            model({"a": PLAIN}),
            model(
                {
                    "a": PLAIN,
                }
            ),
        )
        == []
    )


def test_new_attribute_and_entity_type_need_nothing() -> None:
    changes = diff_models(model({"a": PLAIN}), model({"a": PLAIN, "b": OBS}, extra=True))
    assert [(c.path, c.what, c.needs, c.safe) for c in changes] == [
        ("asn", "new entity type", "nothing", True),
        ("ip.b", "new attribute", "nothing", True),
    ]


def test_settings_that_govern_new_data_only_are_not_changes() -> None:
    described = {**OBS, "description": "new words", "history_params": {"max_age": "3d"}}
    assert diff_models(model({"a": OBS}), model({"a": described})) == []


def test_removed_and_retyped_attributes_are_unsafe_and_name_the_data() -> None:
    changes = diff_models(
        model({"a": PLAIN, "b": OBS, "c": PLAIN}),
        model({"a": {**PLAIN, "data_type": "int"}, "c": OBS}),
    )
    assert [str(c) for c in changes] == [
        "ip.a: data type string -> int: the stored values of ip.a (written as string) become "
        "unreadable",
        "ip.b: attribute removed: the stored values of ip.b become unreadable (kept, never read)",
        "ip.c: kind plain -> observations: the stored plain values of ip.c become unreadable",
    ]
    assert not any(c.safe for c in changes)


def test_entity_id_type_and_removed_entity_type_are_unsafe() -> None:
    changes = diff_models(model({}, extra=True), model({}, id_type="string"))
    assert [(c.path, c.safe) for c in changes] == [("asn", False), ("ip.id_data_type", False)]


def test_series_added_is_safe_removed_or_retyped_is_not() -> None:
    more = {**TS, "series": {"bytes": {"data_type": "float"}, "packets": {"data_type": "int"}}}
    changes = diff_models(model({"t": TS}), model({"t": more}))
    assert [(c.path, c.safe) for c in changes] == [
        ("ip.t.series.bytes", False),
        ("ip.t.series.packets", True),
    ]
