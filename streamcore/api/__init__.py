"""``streamcore api``: DP³'s HTTP API over Kafka (writes) and Cassandra (reads)."""

from streamcore.api.app import create_app

__all__ = ["create_app"]
