"""Bad values fail `helm install` / `helm template` with a message that names the value.

values.schema.json checks each value alone (types, enums, minimums, patterns, unknown keys);
the chart's templates check the combinations (a SASL protocol without its Secret, ...).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from chart_harness import CHART, Chart

# --- bad values fail with a message that names the value --------------------------------------


def cases(*pairs: tuple[list[str], str]) -> list[Any]:
    """Parameters named after the values they set."""
    return [pytest.param(sets, message, id=",".join(sets)) for sets, message in pairs]


@pytest.mark.parametrize(
    ("sets", "message"),
    cases(
        (["kafka.topics.partitions=0"], "at '/kafka/topics/partitions': minimum: got 0, want 1"),
        (["kafka.securityProtocol=TLS"], "at '/kafka/securityProtocol': value must be one of"),
        (["worker.replicas=3"], "at '/worker': additional properties 'replicas' not allowed"),
        (["worker.replicaCount=two"], "at '/worker/replicaCount': got string, want integer"),
        (["metrics.port=80"], "at '/metrics/port': minimum: got 80"),
        (["image.pullPolicy=Sometimes"], "at '/image/pullPolicy': value must be one of"),
        (["worker.podAntiAffinity=soft"], "at '/worker/podAntiAffinity': value must be one of"),
        (["cassandra.keyspace=my-keyspace"], "at '/cassandra/keyspace'"),
        (["kafka.sasl.existingSecret=Bad_Name"], "at '/kafka/sasl/existingSecret'"),
        (["config.source=git"], "at '/config/source': value must be one of"),
        (["worker.terminationGracePeriodSeconds=1"], "minimum: got 1, want 10"),
        (["metrics.serviceMonitor.interval=often"], "at '/metrics/serviceMonitor/interval'"),
    ),
)
def test_schema_rejects_bad_values_clearly(chart: Chart, sets: list[str], message: str) -> None:
    error = chart.template_error(sets=sets)
    assert "values don't meet the specifications of the schema" in error
    assert message in error, error


@pytest.mark.parametrize(
    ("sets", "message"),
    cases(
        (
            ["kafka.securityProtocol=SASL_SSL", "kafka.sasl.username=u"],
            "set kafka.sasl.existingSecret to the name of an existing Secret",
        ),
        (
            ["kafka.securityProtocol=SASL_SSL", "kafka.sasl.existingSecret=s"],
            "set kafka.sasl.username, or kafka.sasl.usernameKey",
        ),
        (
            [
                "kafka.securityProtocol=SASL_SSL",
                "kafka.sasl.existingSecret=s",
                "kafka.sasl.username=u",
                "worker.autoscaling.enabled=true",
            ],
            "KEDA reads credentials from Secrets only",
        ),
        (["kafka.ssl.certificateKey=tls.crt"], "kafka.ssl.certificateKey and kafka.ssl.keyKey go"),
        (["cassandra.auth.username=u"], "set cassandra.auth.existingSecret"),
        (["cassandra.auth.existingSecret=s"], "set cassandra.auth.username"),
        (["appName=other"], 'appName "other" differs from app_name "streamcore"'),
        (["config.source=image"], "appName is required"),
        (
            ["worker.autoscaling.enabled=true", "worker.autoscaling.minReplicas=8"],
            "worker.autoscaling.minReplicas (8) is above the effective maximum",
        ),
        (
            ["config.files.a/b\\.yml=x", "config.files.a__b\\.yml=y", "appName=x"],
            "would share the ConfigMap key",
        ),
        (
            ["metrics.auth.tokenKey=token"],
            "metrics.auth.tokenKey/passwordKey need metrics.auth.existingSecret",
        ),
        (
            ["metrics.auth.existingSecret=s", "metrics.auth.passwordKey=p"],
            "metrics.auth.usernameKey and metrics.auth.passwordKey go together",
        ),
    ),
)
def test_inconsistent_values_fail_with_a_message(
    chart: Chart, sets: list[str], message: str
) -> None:
    error = chart.template_error(sets=sets)
    assert message in error, error


def test_values_file_documents_every_schema_property() -> None:
    """values.yaml and values.schema.json describe the same tree (no undocumented knobs)."""
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    schema = json.loads((CHART / "values.schema.json").read_text())

    def walk(node: Any, sch: dict[str, Any], path: str) -> None:
        props = sch.get("properties")
        if (
            not isinstance(node, dict)
            or props is None
            or sch.get("additionalProperties") is not False
        ):
            return
        optional = {"global", "minAvailable"}
        assert set(node) | optional >= set(props), f"{path}: {set(props) - set(node)} not in values"
        for key, value in node.items():
            assert key in props, f"{path}.{key} is not in the schema"
            walk(value, props[key], f"{path}.{key}")

    walk(values, schema, "values")
