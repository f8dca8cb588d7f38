"""``/control/<action>``: DP³'s control actions, published on the control topic.

DP³ answers ``{"detail": "Action sent."}``; streamcore waits (bounded) for the live
replicas' acknowledgements and lists them too. A request any replica would refuse (an
action not allowed by ``control.yml``, an unknown module or entity type) is a 422.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException
from fastapi.params import Depends

from streamcore.api.models import ControlResponse
from streamcore.api.routers.root import validation_error
from streamcore.api.services import ApiServices
from streamcore.errors import StreamcoreError

ACK_TIMEOUT_SECONDS = 5.0


def router(services: ApiServices, guard: Depends) -> APIRouter:
    api = APIRouter(dependencies=[guard])

    def send(
        action: str, *, module: str | None = None, etype: str | None = None
    ) -> ControlResponse:
        from streamcore.control.request import ControlRequestError, build_message

        try:
            message, key = build_message(
                services.config, services.config_dir, action, module=module, etype=etype
            )
        except ControlRequestError as exc:
            raise validation_error(["path", "action"], str(exc)) from exc
        down = services.readiness.down("kafka")
        if down:  # the control exchange would block on a dead broker: answer now
            raise HTTPException(503, f"Control topic unavailable: {down}")
        try:
            result = services.control.send(message, key, ACK_TIMEOUT_SECONDS)
        except (TimeoutError, StreamcoreError) as exc:
            raise HTTPException(503, f"Control topic unavailable: {exc}") from exc
        return ControlResponse(
            detail="Action sent.",
            acknowledged=sorted(result.acks),
            missing=result.missing,
            failed=result.failed,
        )

    @api.get("/refresh_on_entity_creation")
    def refresh_on_entity_creation(etype: str) -> ControlResponse:
        """Send ``refresh_on_entity_creation`` for ``etype``."""
        return send("refresh_on_entity_creation", etype=etype)

    @api.get("/refresh_module_config")
    def refresh_module_config(module: str) -> ControlResponse:
        """Send ``refresh_module_config`` for ``module`` (its config from CONFIG_DIR)."""
        return send("refresh_module_config", module=module)

    @api.get("/{action}")
    def execute_action(action: str) -> ControlResponse:
        """Send ``action`` (``make_snapshots``, ``ping``) to every replica."""
        return send(action)

    return api
