"""``dp3.common.control``: DP³'s control actions; the RabbitMQ control queue is absent."""

from streamcore.common._absent import absent
from streamcore.config.sections import ControlConfig
from streamcore.model.control import ControlAction

__getattr__ = absent(
    __name__,
    {
        "Control": "DP³'s RabbitMQ control queue consumer; streamcore's control listener "
        "reads the control topic in every process (streamcore control ...)",
        "ControlMessage": "a RabbitMQ message; send control messages with streamcore control",
        "refresh_on_entity_creation": "use the control action refresh_on_entity_creation "
        "(streamcore control refresh-on-entity-creation ETYPE)",
    },
)

__all__ = ["ControlAction", "ControlConfig"]
