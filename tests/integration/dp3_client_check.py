"""Run with DP³'s own published package (``dp-cubed``) installed: reads a streamcore API the
way a DP³ client does and parses every answer with DP³'s response models.

    python dp3_client_check.py BASE_URL CONFIG_DIR ETYPE EID ATTR

Prints one line per checked operation and exits non-zero at the first answer DP³'s models
refuse. Not a test module: ``test_api_dp3_client.py`` runs it in DP³'s venv.
"""

import sys

import requests
from dp3.api.internal.entity_response_models import (
    EntityEidAttrValueOrHistory,
    EntityEidCount,
    EntityEidData,
    EntityEidList,
    EntityState,
)
from dp3.api.internal.response_models import HealthCheckResponse, SuccessResponse
from dp3.common.config import ModelSpec, entity_type_context, read_config_dir
from dp3.common.context import entity_context
from pydantic import TypeAdapter


def main() -> None:
    base, config_dir, etype, eid, attr = sys.argv[1:6]
    session = requests.Session()

    def get(path, **params):
        response = session.get(base + path, params=params, timeout=10)
        response.raise_for_status()
        return response.json()

    checks = [
        ("GET /", HealthCheckResponse, get("/")),
        (f"GET /entity/{etype}/get", EntityEidList, get(f"/entity/{etype}/get")),
        (f"GET /entity/{etype}/count", EntityEidCount, get(f"/entity/{etype}/count")),
        (f"GET /entity/{etype} (deprecated)", EntityEidList, get(f"/entity/{etype}")),
        (f"GET /entity/{etype}/{eid}", EntityEidData, get(f"/entity/{etype}/{eid}")),
        (
            f"GET /entity/{etype}/{eid}/get/{attr}",
            EntityEidAttrValueOrHistory,
            get(f"/entity/{etype}/{eid}/get/{attr}"),
        ),
        (f"GET /v2/entity/{etype}/", EntityEidData, get(f"/v2/entity/{etype}/", eid=eid)),
        (
            f"GET /v2/entity/{etype}/attr",
            EntityEidAttrValueOrHistory,
            get(f"/v2/entity/{etype}/attr", eid=eid, attr=attr),
        ),
    ]
    # /entities holds attribute specs: DP³ parses them in the context of its model
    model_spec = ModelSpec(read_config_dir(config_dir, recursive=True).get("db_entities"))
    entities = get("/entities")
    assert set(entities) == set(model_spec.entities), entities.keys()
    with entity_type_context(model_spec):
        for entity, state in entities.items():
            with entity_context(model_spec.entities[entity], model_spec.entities):
                EntityState.model_validate(state)
    print("ok GET /entities")
    for name, model, body in checks:
        if isinstance(model, TypeAdapter):
            model.validate_python(body)
        else:
            model.model_validate(body)
        print(f"ok {name}")
    response = session.post(
        f"{base}/entity/{etype}/{eid}/set/{attr}", json={"value": "set by dp3 client"}, timeout=10
    )
    response.raise_for_status()
    SuccessResponse.model_validate(response.json())
    print(f"ok POST /entity/{etype}/{eid}/set/{attr}")
    dps = [{"type": etype, "id": eid, "attr": attr, "v": "pushed by dp3 client"}]
    response = session.post(f"{base}/datapoints", json=dps, timeout=10)
    response.raise_for_status()
    SuccessResponse.model_validate(response.json())
    print("ok POST /datapoints")


if __name__ == "__main__":
    main()
