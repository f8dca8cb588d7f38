"""DP³'s route groups: root (health, ingestion, entity types), entity v1/v2, control,
telemetry. Each module's ``router(...)`` builds its ``APIRouter`` around the services."""
