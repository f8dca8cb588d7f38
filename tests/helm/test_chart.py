"""The Helm chart: it lints, renders valid Kubernetes objects, and renders the right ones.

Rendered for the default values and for values-all-on.yaml (every option on), validated
offline against the Kubernetes schemas (kubeconform, strict) and asserted on as parsed YAML.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from chart_harness import ALL_ON, CHART, NAMESPACE, Chart, Manifest, Rendered

from streamcore.cli import main as cli
from streamcore.settings import Settings

CONFIG_DIR = "/etc/streamcore/config"
COMPONENTS = {"worker": "worker", "snapshots": "snapshots", "scheduler": "scheduler", "api": "api"}
"""What a default install deploys: component -> its `streamcore` command."""
DEFAULT_NAME = "sc-test-streamcore"
PRODUCTION = CHART / "values-production.yaml"
"""The production starting point README's capacity planning describes."""


def container(deployment: Manifest) -> Manifest:
    containers = deployment["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    result: Manifest = containers[0]
    return result


def env_of(c: Manifest) -> dict[str, Any]:
    """Env var name -> literal value, or ("secret", name, key) for a secretKeyRef."""
    env: dict[str, Any] = {}
    for var in c["env"]:
        assert var["name"] not in env, f"{var['name']} set twice"
        if "valueFrom" in var:
            ref = var["valueFrom"]["secretKeyRef"]
            env[var["name"]] = ("secret", ref["name"], ref["key"])
        else:
            env[var["name"]] = var["value"]
    return env


def example_config_files() -> dict[str, str]:
    base = CHART / "example-config"
    return {str(p.relative_to(base)): p.read_text() for p in base.rglob("*") if p.is_file()}


# --- the chart as a whole -----------------------------------------------------------------


@pytest.mark.parametrize(
    "values", [[], [ALL_ON], [PRODUCTION]], ids=["default", "all-on", "production"]
)
def test_helm_lint_is_clean(chart: Chart, values: list[Path]) -> None:
    args = ["lint", "--strict", str(CHART), "--namespace", NAMESPACE]
    for path in values:
        args += ["--values", str(path)]
    result = chart.helm(*args)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 chart(s) failed" in result.stdout


@pytest.mark.parametrize(
    "values", [[], [ALL_ON], [PRODUCTION]], ids=["default", "all-on", "production"]
)
def test_rendered_manifests_validate_against_kubernetes_schemas(
    chart: Chart, values: list[Path]
) -> None:
    result = chart.kubeconform(chart.template_text(values))
    report = json.loads(result.stdout)
    problems = [r for r in report["resources"] if r["status"] != "statusValid"]
    assert result.returncode == 0 and not problems, json.dumps(problems, indent=2)
    summary = report["summary"]
    assert summary["invalid"] == summary["errors"] == summary["skipped"] == 0
    assert summary["valid"] >= 10


def test_kubeconform_validation_really_bites(chart: Chart) -> None:
    """A misspelt field and a wrong type must fail: the schemas are strict and were found."""
    text = chart.template_text([ALL_ON])
    broken = text.replace("readOnlyRootFilesystem:", "readOnlyRootFileSystem:", 1)
    broken = broken.replace('lagThreshold: "500"', "lagThreshold: 500", 1)
    assert broken.count("readOnlyRootFileSystem") == 1
    result = chart.kubeconform(broken)
    assert result.returncode != 0
    report = json.loads(result.stdout)
    invalid = {
        (r["kind"], r["status"]) for r in report["resources"] if r["status"] != "statusValid"
    }
    assert invalid == {("Deployment", "statusInvalid"), ("ScaledObject", "statusInvalid")}, invalid


def test_default_release_has_the_expected_objects(default: Rendered) -> None:
    assert default.names("Deployment") == {f"{DEFAULT_NAME}-{c}" for c in COMPONENTS}
    assert default.names("PodDisruptionBudget") == {f"{DEFAULT_NAME}-{c}" for c in COMPONENTS}
    assert default.names("Service") == {f"{DEFAULT_NAME}-metrics", f"{DEFAULT_NAME}-api"}
    assert default.names("HorizontalPodAutoscaler") == {f"{DEFAULT_NAME}-api"}
    assert default.names("Job") == {f"{DEFAULT_NAME}-setup"}
    assert default.names("ConfigMap") == {f"{DEFAULT_NAME}-config", f"{DEFAULT_NAME}-config-setup"}
    assert not default.all("ServiceMonitor")
    assert not default.all("PrometheusRule")
    assert not default.all("ScaledObject")
    assert not default.all("Secret"), "the chart must never create secrets"


def test_all_on_release_has_the_optional_objects(all_on: Rendered) -> None:
    assert all_on.names("ServiceMonitor") == {"sc"}
    assert all_on.names("PrometheusRule") == {"sc"}
    assert all_on.names("ScaledObject") == {"sc-worker"}
    assert all_on.names("TriggerAuthentication") == {"sc-kafka-lag"}
    assert all_on.names("ConfigMap") == {
        "sc-config",
        "sc-config-setup",
        "sc-modules",
        "sc-modules-setup",
    }
    assert all_on.names("ServiceAccount") == {"streamcore-runner"}
    assert not all_on.all("Secret")


# --- Deployments ---------------------------------------------------------------------------


@pytest.mark.parametrize("component", COMPONENTS)
def test_each_component_runs_its_command_on_the_config_dir(
    default: Rendered, component: str
) -> None:
    c = container(default.get("Deployment", f"{DEFAULT_NAME}-{component}"))
    assert c["image"] == "streamcore:0.1.0"
    assert "command" not in c, "the image's entrypoint is streamcore"
    assert c["args"] == [COMPONENTS[component], CONFIG_DIR]


def test_extra_args_image_digest_and_pull_secrets(all_on: Rendered) -> None:
    deployment = all_on.get("Deployment", "sc-worker")
    c = container(deployment)
    assert c["args"] == ["worker", CONFIG_DIR, "--process-index", "0"]
    assert c["image"].startswith("registry.example.com/streamcore@sha256:")
    assert c["imagePullPolicy"] == "Always"
    pod = deployment["spec"]["template"]["spec"]
    assert pod["imagePullSecrets"] == [{"name": "registry-credentials"}]
    assert pod["serviceAccountName"] == "streamcore-runner"
    assert pod["automountServiceAccountToken"] is False


def test_default_env_carries_connection_settings(default: Rendered) -> None:
    env = env_of(container(default.get("Deployment", f"{DEFAULT_NAME}-worker")))
    assert env == {
        "STREAMCORE_APP_NAME": "streamcore",
        "STREAMCORE_WORKER__CONSUMER_GROUP": "streamcore.ingest",
        "STREAMCORE_KAFKA__BOOTSTRAP_SERVERS": "kafka:9092",
        "STREAMCORE_KAFKA__SECURITY_PROTOCOL": "PLAINTEXT",
        "STREAMCORE_TOPICS__PARTITIONS": "6",
        "STREAMCORE_TOPICS__REPLICATION_FACTOR": "1",
        "STREAMCORE_CASSANDRA__CONTACT_POINTS": '["cassandra"]',
        "STREAMCORE_CASSANDRA__PORT": "9042",
        "STREAMCORE_CASSANDRA__KEYSPACE": "streamcore",
        "STREAMCORE_CASSANDRA__REPLICATION_FACTOR": "1",
        "STREAMCORE_METRICS__PORT": "9100",
        "STREAMCORE_METRICS__HOST": "0.0.0.0",
    }


def test_all_on_env_takes_secrets_by_reference_only(all_on: Rendered) -> None:
    for kind, name in [
        ("Deployment", "sc-worker"),
        ("Deployment", "sc-scheduler"),
        ("Deployment", "sc-api"),
        ("Job", "sc-setup"),
    ]:
        env = env_of(container(all_on.get(kind, name)))
        assert env["STREAMCORE_KAFKA__SECURITY_PROTOCOL"] == "SASL_SSL"
        assert env["STREAMCORE_KAFKA__SASL_MECHANISM"] == "SCRAM-SHA-256"
        assert env["STREAMCORE_KAFKA__SASL_USERNAME"] == ("secret", "kafka-user", "username")
        assert env["STREAMCORE_KAFKA__SASL_PASSWORD"] == ("secret", "kafka-user", "password")
        assert env["STREAMCORE_KAFKA__SSL_KEY_PASSWORD"] == ("secret", "kafka-tls", "key-password")
        assert env["STREAMCORE_KAFKA__SSL_CA_LOCATION"] == "/etc/streamcore/kafka-tls/ca.crt"
        assert env["STREAMCORE_KAFKA__SSL_CERTIFICATE_LOCATION"] == (
            "/etc/streamcore/kafka-tls/tls.crt"
        )
        assert env["STREAMCORE_KAFKA__SSL_KEY_LOCATION"] == "/etc/streamcore/kafka-tls/tls.key"
        assert json.loads(env["STREAMCORE_KAFKA__CLIENT_OPTIONS"]) == {"compression.type": "zstd"}
        assert env["STREAMCORE_CASSANDRA__USERNAME"] == ("secret", "cassandra-auth", "user")
        assert env["STREAMCORE_CASSANDRA__PASSWORD"] == ("secret", "cassandra-auth", "pass")
        assert json.loads(env["STREAMCORE_CASSANDRA__CONTACT_POINTS"]) == [
            "cassandra-0.cassandra",
            "cassandra-1.cassandra",
        ]
        assert env["STREAMCORE_CASSANDRA__LOCAL_DC"] == "dc1"
        assert env["STREAMCORE_APP_NAME"] == "sensors"
        assert env["STREAMCORE_TOPICS__INPUT"] == "sensors.in"
        assert env["STREAMCORE_TOPICS__CONTROL_ACKS"] == "sensors.ctl-acks"
        assert env["STREAMCORE_TOPICS__DEAD_LETTER"] == "sensors.dlq"
        assert env["STREAMCORE_TOPICS__SNAPSHOT_TASKS"] == "sensors.snap-tasks"
        assert env["STREAMCORE_METRICS__PORT"] == "9200"
        assert env["STREAMCORE_METRICS__HOST"] == "0.0.0.0"
        assert env["STREAMCORE_METRICS__TOKEN"] == ("secret", "metrics-auth", "token")
        assert env["STREAMCORE_CONTROL__SECRET"] == ("secret", "control-key", "hmac")
        assert env["STREAMCORE_METRICS__LIVENESS_SECONDS"] == "300"


def test_metrics_basic_auth_comes_from_the_secret_and_the_monitor_presents_it(
    chart: Chart,
) -> None:
    rendered = chart.render(
        sets=[
            "metrics.auth.existingSecret=prom-auth",
            "metrics.auth.usernameKey=user",
            "metrics.auth.passwordKey=pass",
            "metrics.serviceMonitor.enabled=true",
        ]
    )
    env = env_of(container(rendered.get("Deployment", f"{DEFAULT_NAME}-worker")))
    assert env["STREAMCORE_METRICS__USERNAME"] == ("secret", "prom-auth", "user")
    assert env["STREAMCORE_METRICS__PASSWORD"] == ("secret", "prom-auth", "pass")
    assert "STREAMCORE_METRICS__TOKEN" not in env
    assert "STREAMCORE_CONTROL__SECRET" not in env
    (endpoint,) = rendered.get("ServiceMonitor", DEFAULT_NAME)["spec"]["endpoints"]
    assert endpoint["basicAuth"] == {
        "username": {"name": "prom-auth", "key": "user"},
        "password": {"name": "prom-auth", "key": "pass"},
    }


def test_sasl_username_may_be_a_plain_value(chart: Chart) -> None:
    rendered = chart.render(
        sets=[
            "kafka.securityProtocol=SASL_PLAINTEXT",
            "kafka.sasl.username=ingest",
            "kafka.sasl.existingSecret=kafka-user",
        ]
    )
    env = env_of(container(rendered.get("Deployment", f"{DEFAULT_NAME}-worker")))
    assert env["STREAMCORE_KAFKA__SASL_USERNAME"] == "ingest"
    assert env["STREAMCORE_KAFKA__SASL_PASSWORD"] == ("secret", "kafka-user", "password")
    assert "STREAMCORE_KAFKA__SSL_CA_LOCATION" not in env


@pytest.mark.parametrize("component", COMPONENTS)
def test_probes_hit_the_health_endpoints_on_the_metrics_port(
    default: Rendered, component: str
) -> None:
    c = container(default.get("Deployment", f"{DEFAULT_NAME}-{component}"))
    ports = {p["name"]: p["containerPort"] for p in c["ports"]}
    assert ports["metrics"] == 9100
    assert c["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "metrics"}
    assert c["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "metrics"}
    assert c["startupProbe"]["httpGet"] == {"path": "/healthz", "port": "metrics"}
    assert set(ports) == ({"metrics", "http"} if component == "api" else {"metrics"})


def test_api_service_targets_the_http_port(all_on: Rendered) -> None:
    service = all_on.get("Service", "sc-api")
    assert service["spec"]["type"] == "LoadBalancer"
    assert service["spec"]["ports"] == [
        {"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}
    ]
    pod_labels = all_on.get("Deployment", "sc-api")["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= pod_labels.items()


def test_api_is_on_by_default_with_service_budget_and_cpu_autoscaler(
    default: Rendered, all_on: Rendered
) -> None:
    name = f"{DEFAULT_NAME}-api"
    deployment = default.get("Deployment", name)
    assert "replicas" not in deployment["spec"], "the HPA owns replicas"
    c = container(deployment)
    assert c["args"] == ["api", CONFIG_DIR]
    assert {p["name"]: p["containerPort"] for p in c["ports"]} == {"http": 5000, "metrics": 9100}
    env = env_of(c)
    assert env["STREAMCORE_API__HOST"] == "0.0.0.0" and env["STREAMCORE_API__PORT"] == "5000"
    assert c["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "metrics"}
    assert default.get("Service", name)["spec"]["ports"][0]["targetPort"] == "http"
    assert default.get("PodDisruptionBudget", name)["spec"]["maxUnavailable"] == 1
    hpa = default.get("HorizontalPodAutoscaler", name)["spec"]
    assert hpa["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": name}
    assert (hpa["minReplicas"], hpa["maxReplicas"]) == (2, 10)
    [metric] = hpa["metrics"]
    assert metric["resource"]["name"] == "cpu"
    assert metric["resource"]["target"]["averageUtilization"] == 70
    c = container(all_on.get("Deployment", "sc-api"))
    assert {p["name"]: p["containerPort"] for p in c["ports"]} == {"http": 5000, "metrics": 9200}
    assert "sc-api" not in all_on.names("HorizontalPodAutoscaler")
    assert "api" in cli.commands


def test_scheduler_runs_replicated_with_probes_and_budget(
    default: Rendered, all_on: Rendered
) -> None:
    deployment = default.get("Deployment", f"{DEFAULT_NAME}-scheduler")
    assert deployment["spec"]["replicas"] == 2
    c = container(deployment)
    assert c["args"] == ["scheduler", CONFIG_DIR]
    assert c["resources"] == {
        "requests": {"cpu": "100m", "memory": "256Mi"},
        "limits": {"memory": "512Mi"},
    }
    assert "STREAMCORE_WORKER__CONSUMER_GROUP" not in env_of(c)
    assert (
        default.get("PodDisruptionBudget", f"{DEFAULT_NAME}-scheduler")["spec"]["maxUnavailable"]
        == 1
    )
    custom = all_on.get("Deployment", "sc-scheduler")
    assert custom["spec"]["replicas"] == 3
    assert custom["spec"]["strategy"]["rollingUpdate"] == {"maxSurge": 1, "maxUnavailable": 0}
    pod = custom["spec"]["template"]["spec"]
    assert pod["terminationGracePeriodSeconds"] == 300
    required = pod["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert required[0]["labelSelector"]["matchLabels"]["app.kubernetes.io/component"] == "scheduler"
    assert all_on.get("PodDisruptionBudget", "sc-scheduler")["spec"]["minAvailable"] == 2


def test_workers_consume_in_the_group_keda_watches(chart: Chart, all_on: Rendered) -> None:
    [trigger] = all_on.get("ScaledObject", "sc-worker")["spec"]["triggers"]
    worker_env = env_of(container(all_on.get("Deployment", "sc-worker")))
    assert worker_env["STREAMCORE_WORKER__CONSUMER_GROUP"] == trigger["metadata"]["consumerGroup"]
    assert trigger["metadata"]["consumerGroup"] == "sensors.workers"
    for other in ("sc-snapshots", "sc-scheduler", "sc-api"):
        assert "STREAMCORE_WORKER__CONSUMER_GROUP" not in env_of(
            container(all_on.get("Deployment", other))
        )
    rendered = chart.render(sets=["worker.autoscaling.enabled=true"])
    [trigger] = rendered.get("ScaledObject", f"{DEFAULT_NAME}-worker")["spec"]["triggers"]
    env = env_of(container(rendered.get("Deployment", f"{DEFAULT_NAME}-worker")))
    assert env["STREAMCORE_WORKER__CONSUMER_GROUP"] == trigger["metadata"]["consumerGroup"]


def pod_containers(rendered: Rendered) -> list[tuple[str, Manifest]]:
    return [
        (obj["metadata"]["name"], container(obj))
        for kind in ("Deployment", "Job")
        for obj in rendered.all(kind)
    ]


def test_every_env_var_the_chart_sets_is_a_setting(
    chart: Chart, default: Rendered, all_on: Rendered
) -> None:
    """STREAMCORE_<SECTION>__<NAME> must name a field of streamcore.settings.Settings (a typo
    is silently ignored by pydantic-settings); STREAMCORE_APP_NAME is the CLI's --app-name."""
    app_name_envvars = {p.envvar for p in cli.commands["worker"].params if p.name == "app_name"}
    assert app_name_envvars == {"STREAMCORE_APP_NAME"}
    for rendered in (default, all_on, chart.render([PRODUCTION])):
        for name, c in pod_containers(rendered):
            for var in env_of(c):
                if var == "STREAMCORE_APP_NAME":
                    continue
                assert var.startswith("STREAMCORE_"), var
                model: Any = Settings
                for part in var.removeprefix("STREAMCORE_").lower().split("__"):
                    assert part in model.model_fields, f"{name}: {var} is not a setting"
                    model = model.model_fields[part].annotation


def test_every_command_and_option_the_chart_runs_exists(
    default: Rendered, all_on: Rendered
) -> None:
    for rendered in (default, all_on):
        for name, c in pod_containers(rendered):
            command, config_dir, *extra = c["args"]
            assert config_dir == CONFIG_DIR
            assert command in cli.commands, f"{name}: no `streamcore {command}`"
            options = {o for p in cli.commands[command].params for o in p.opts}
            for arg in extra:
                assert not arg.startswith("-") or arg in options, f"{name}: {command} {arg}"


def test_config_is_mounted_read_only_with_its_subdirectories(default: Rendered) -> None:
    deployment = default.get("Deployment", f"{DEFAULT_NAME}-worker")
    mounts = {m["name"]: m for m in container(deployment)["volumeMounts"]}
    assert mounts["config"] == {"name": "config", "mountPath": CONFIG_DIR, "readOnly": True}
    assert mounts["tmp"]["mountPath"] == "/tmp"
    volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"]["volumes"]}
    assert volumes["tmp"]["emptyDir"] == {"sizeLimit": "256Mi"}
    config_map = volumes["config"]["configMap"]
    assert config_map["name"] == f"{DEFAULT_NAME}-config"
    files = example_config_files()
    assert {i["path"] for i in config_map["items"]} == set(files)
    data = default.get("ConfigMap", f"{DEFAULT_NAME}-config")["data"]
    assert {i["path"]: data[i["key"]] for i in config_map["items"]} == files
    assert "db_entities/example.yml" in files


def test_given_config_and_modules_replace_the_example(
    all_on: Rendered, all_on_values: dict[str, Any]
) -> None:
    deployment = all_on.get("Deployment", "sc-worker")
    volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"]["volumes"]}
    for volume, values in [
        ("config", all_on_values["config"]),
        ("modules", all_on_values["modules"]),
    ]:
        items = volumes[volume]["configMap"]["items"]
        data = all_on.get("ConfigMap", volumes[volume]["configMap"]["name"])["data"]
        assert {i["path"]: data[i["key"]] for i in items} == values["files"]
    mounts = {m["name"]: m for m in container(deployment)["volumeMounts"]}
    assert mounts["modules"] == {
        "name": "modules",
        "mountPath": "/etc/streamcore/modules",
        "readOnly": True,
    }
    assert mounts["kafka-tls"]["readOnly"] is True
    tls = volumes["kafka-tls"]["secret"]
    assert tls["secretName"] == "kafka-tls"
    assert {i["key"] for i in tls["items"]} == {"ca.crt", "tls.crt", "tls.key"}


def test_config_baked_into_the_image_mounts_nothing(chart: Chart) -> None:
    rendered = chart.render(
        sets=[
            "config.source=image",
            "modules.source=image",
            "appName=sensors",
            "worker.autoscaling.enabled=true",
        ]
    )
    assert not rendered.all("ConfigMap")
    deployment = rendered.get("Deployment", f"{DEFAULT_NAME}-worker")
    assert [m["name"] for m in container(deployment)["volumeMounts"]] == ["tmp"]
    assert container(deployment)["args"] == ["worker", CONFIG_DIR]
    trigger = rendered.get("ScaledObject", f"{DEFAULT_NAME}-worker")["spec"]["triggers"][0]
    assert trigger["metadata"]["topic"] == "sensors.input"


def test_config_change_rolls_the_pods(chart: Chart, default: Rendered) -> None:
    def checksum(rendered: Rendered) -> str:
        deployment = rendered.get("Deployment", f"{DEFAULT_NAME}-worker")
        value: str = deployment["spec"]["template"]["metadata"]["annotations"]["checksum/config"]
        return value

    changed = chart.render(sets=["modules.files.extra\\.py=x = 1"])
    assert checksum(changed) != checksum(default)


@pytest.mark.parametrize("kind", ["Deployment", "Job"])
def test_pods_are_locked_down(default: Rendered, kind: str) -> None:
    for obj in default.all(kind):
        pod = obj["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] == 10001
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        sc = container(obj)["securityContext"]
        assert sc["runAsNonRoot"] is True
        assert sc["readOnlyRootFilesystem"] is True
        assert sc["allowPrivilegeEscalation"] is False
        assert sc["capabilities"] == {"drop": ["ALL"]}
        assert sc["seccompProfile"] == {"type": "RuntimeDefault"}
        assert {"name": "tmp", "mountPath": "/tmp"} in container(obj)["volumeMounts"]
        assert "resources" in container(obj) and container(obj)["resources"]["requests"]


def test_graceful_termination_anti_affinity_and_scrape_annotations(default: Rendered) -> None:
    for component in COMPONENTS:
        template = default.get("Deployment", f"{DEFAULT_NAME}-{component}")["spec"]["template"]
        pod = template["spec"]
        assert pod["terminationGracePeriodSeconds"] == 60
        preferred = pod["affinity"]["podAntiAffinity"][
            "preferredDuringSchedulingIgnoredDuringExecution"
        ]
        term = preferred[0]["podAffinityTerm"]
        assert term["topologyKey"] == "kubernetes.io/hostname"
        assert term["labelSelector"]["matchLabels"]["app.kubernetes.io/component"] == component
        annotations = template["metadata"]["annotations"]
        assert annotations["prometheus.io/scrape"] == "true"
        assert annotations["prometheus.io/port"] == "9100"
        assert annotations["prometheus.io/path"] == "/metrics"


def test_anti_affinity_modes(all_on: Rendered) -> None:
    def affinity(component: str) -> Any:
        pod = all_on.get("Deployment", f"sc-{component}")["spec"]["template"]["spec"]
        return pod.get("affinity")

    required = affinity("worker")["podAntiAffinity"][
        "requiredDuringSchedulingIgnoredDuringExecution"
    ]
    assert required[0]["labelSelector"]["matchLabels"]["app.kubernetes.io/component"] == "worker"
    assert affinity("snapshots") is None
    assert "nodeAffinity" in affinity("api") and "podAntiAffinity" not in affinity("api")
    worker = all_on.get("Deployment", "sc-worker")["spec"]["template"]["spec"]
    assert worker["terminationGracePeriodSeconds"] == 120


# --- PDBs, monitoring, autoscaling ------------------------------------------------------------


def test_pod_disruption_budgets_select_their_component(default: Rendered, all_on: Rendered) -> None:
    for component in COMPONENTS:
        pdb = default.get("PodDisruptionBudget", f"{DEFAULT_NAME}-{component}")
        assert pdb["spec"]["maxUnavailable"] == 1
        pod_labels = default.get("Deployment", f"{DEFAULT_NAME}-{component}")["spec"]["template"][
            "metadata"
        ]["labels"]
        assert pdb["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    assert all_on.get("PodDisruptionBudget", "sc-worker")["spec"] == {
        "minAvailable": 1,
        "selector": {
            "matchLabels": {
                "app.kubernetes.io/name": "streamcore",
                "app.kubernetes.io/instance": "sc-test",
                "app.kubernetes.io/component": "worker",
            }
        },
    }
    assert all_on.get("PodDisruptionBudget", "sc-snapshots")["spec"]["maxUnavailable"] == "50%"


def test_service_monitor_scrapes_every_long_running_pod(all_on: Rendered) -> None:
    monitor = all_on.get("ServiceMonitor", "sc")
    assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    assert monitor["spec"]["namespaceSelector"] == {"matchNames": [NAMESPACE]}
    assert monitor["spec"]["endpoints"] == [
        {
            "port": "metrics",
            "path": "/metrics",
            "interval": "15s",
            "scrapeTimeout": "5s",
            "bearerTokenSecret": {"name": "metrics-auth", "key": "token"},
        }
    ]
    services = [
        s
        for s in all_on.all("Service")
        if monitor["spec"]["selector"]["matchLabels"].items() <= s["metadata"]["labels"].items()
    ]
    assert [s["metadata"]["name"] for s in services] == ["sc-metrics"]
    service = services[0]
    assert service["spec"]["clusterIP"] == "None"
    assert service["spec"]["ports"][0]["name"] == "metrics"
    assert service["spec"]["ports"][0]["port"] == 9200
    selected = {
        o["metadata"]["name"]
        for o in all_on.all("Deployment")
        if service["spec"]["selector"].items()
        <= o["spec"]["template"]["metadata"]["labels"].items()
    }
    assert selected == {"sc-worker", "sc-snapshots", "sc-scheduler", "sc-api"}
    job_labels = all_on.get("Job", "sc-setup")["spec"]["template"]["metadata"]["labels"]
    assert not service["spec"]["selector"].items() <= job_labels.items()


def test_prometheus_rule_ships_the_alert_rules_file_unchanged(all_on: Rendered) -> None:
    rule = all_on.get("PrometheusRule", "sc")
    assert rule["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    alerts = yaml.safe_load((CHART / "files" / "alerts.yml").read_text())
    assert rule["spec"] == alerts
    names = {r["alert"] for group in rule["spec"]["groups"] for r in group["rules"]}
    assert {"StreamcoreWorkerDown", "StreamcoreSchedulerJobFailing"} <= names
    # Prometheus's own templates reach the operator untouched, not expanded by Helm.
    assert "{{ $labels.instance }}" in str(rule["spec"])


def test_keda_scales_workers_on_lag_capped_at_partitions(all_on: Rendered) -> None:
    scaled = all_on.get("ScaledObject", "sc-worker")["spec"]
    assert scaled["scaleTargetRef"] == {"name": "sc-worker"}
    assert scaled["minReplicaCount"] == 2
    assert scaled["maxReplicaCount"] == 4, "maxReplicas 20 must be capped at 4 partitions"
    assert scaled["pollingInterval"] == 10 and scaled["cooldownPeriod"] == 120
    [trigger] = scaled["triggers"]
    assert trigger["type"] == "kafka"
    assert trigger["metadata"] == {
        "bootstrapServers": "kafka-0.kafka:9093,kafka-1.kafka:9093",
        "consumerGroup": "sensors.workers",
        "topic": "sensors.in",
        "lagThreshold": "500",
        "activationLagThreshold": "10",
        "offsetResetPolicy": "earliest",
        "allowIdleConsumers": "false",
        "sasl": "scram_sha256",
        "tls": "enable",
    }
    assert trigger["authenticationRef"] == {"name": "sc-kafka-lag"}
    auth = {
        r["parameter"]: (r["name"], r["key"])
        for r in all_on.get("TriggerAuthentication", "sc-kafka-lag")["spec"]["secretTargetRef"]
    }
    assert auth == {
        "username": ("kafka-user", "username"),
        "password": ("kafka-user", "password"),
        "ca": ("kafka-tls", "ca.crt"),
        "cert": ("kafka-tls", "tls.crt"),
        "key": ("kafka-tls", "tls.key"),
        "keyPassword": ("kafka-tls", "key-password"),
    }
    assert "replicas" not in all_on.get("Deployment", "sc-worker")["spec"], "KEDA owns replicas"
    assert all_on.get("Deployment", "sc-api")["spec"]["replicas"] == 3


def test_keda_defaults_follow_the_app_name(chart: Chart) -> None:
    rendered = chart.render(sets=["worker.autoscaling.enabled=true"])
    scaled = rendered.get("ScaledObject", f"{DEFAULT_NAME}-worker")["spec"]
    assert scaled["maxReplicaCount"] == 6
    [trigger] = scaled["triggers"]
    assert trigger["metadata"]["topic"] == "streamcore.input"
    assert trigger["metadata"]["consumerGroup"] == "streamcore.ingest"
    assert trigger["metadata"]["bootstrapServers"] == "kafka:9092"
    assert "authenticationRef" not in trigger
    assert not rendered.all("TriggerAuthentication")
    lower = chart.render(
        sets=["worker.autoscaling.enabled=true", "worker.autoscaling.maxReplicas=3"]
    )
    assert lower.get("ScaledObject", f"{DEFAULT_NAME}-worker")["spec"]["maxReplicaCount"] == 3


@pytest.mark.parametrize(
    ("mechanism", "mode"), [("PLAIN", "plaintext"), ("SCRAM-SHA-512", "scram_sha512")]
)
def test_keda_gets_the_sasl_mode_in_its_own_words(chart: Chart, mechanism: str, mode: str) -> None:
    rendered = chart.render(
        sets=[
            "kafka.securityProtocol=SASL_PLAINTEXT",
            f"kafka.sasl.mechanism={mechanism}",
            "kafka.sasl.existingSecret=kafka-user",
            "kafka.sasl.usernameKey=user",
            "worker.autoscaling.enabled=true",
        ]
    )
    [trigger] = rendered.get("ScaledObject", f"{DEFAULT_NAME}-worker")["spec"]["triggers"]
    assert trigger["metadata"]["sasl"] == mode
    assert "tls" not in trigger["metadata"]
    auth = rendered.get("TriggerAuthentication", trigger["authenticationRef"]["name"])
    assert {r["parameter"] for r in auth["spec"]["secretTargetRef"]} == {"username", "password"}


# --- the setup hook ---------------------------------------------------------------------------


def test_setup_job_is_a_pre_install_and_pre_upgrade_hook(default: Rendered) -> None:
    job = default.get("Job", f"{DEFAULT_NAME}-setup")
    annotations = job["metadata"]["annotations"]
    assert annotations["helm.sh/hook"] == "pre-install,pre-upgrade"
    c = container(job)
    assert c["args"] == ["setup", CONFIG_DIR]
    pod = job["spec"]["template"]["spec"]
    assert pod["restartPolicy"] == "Never"
    assert "serviceAccountName" not in pod, "the chart's ServiceAccount does not exist yet"
    volumes = {v["name"]: v for v in pod["volumes"]}
    hook_config = volumes["config"]["configMap"]["name"]
    assert hook_config == f"{DEFAULT_NAME}-config-setup"
    config_map = default.get("ConfigMap", hook_config)
    cm_annotations = config_map["metadata"]["annotations"]
    assert cm_annotations["helm.sh/hook"] == "pre-install,pre-upgrade"
    assert int(cm_annotations["helm.sh/hook-weight"]) < int(annotations["helm.sh/hook-weight"])
    assert config_map["data"] == default.get("ConfigMap", f"{DEFAULT_NAME}-config")["data"]
    assert {"name": "config", "mountPath": CONFIG_DIR, "readOnly": True} in c["volumeMounts"]


def test_setup_can_be_turned_off(chart: Chart) -> None:
    rendered = chart.render(sets=["setup.enabled=false"])
    assert not rendered.all("Job")
    assert rendered.names("ConfigMap") == {f"{DEFAULT_NAME}-config"}


def test_notes_tell_how_to_send_a_data_point_and_see_metrics(chart: Chart, tmp_path: Path) -> None:
    """NOTES.txt is only rendered by install; render it through a throwaway template."""
    copy = tmp_path / "streamcore"
    copy.mkdir()
    for path in CHART.rglob("*"):
        if path.is_file():
            target = copy / path.relative_to(CHART)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(path.read_bytes())
    notes = (CHART / "templates" / "NOTES.txt").read_text()
    (copy / "templates" / "zz-notes.yaml").write_text(
        '{{- define "test.notes" }}' + notes + "{{- end }}\n"
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: notes\n"
        'data:\n  notes: {{ include "test.notes" . | quote }}\n'
    )
    result = chart.helm(
        "template",
        "sc-test",
        str(copy),
        "--namespace",
        NAMESPACE,
        "--show-only",
        "templates/zz-notes.yaml",
        "--set",
        "worker.replicaCount=8",
    )
    assert result.returncode == 0, result.stderr
    text = yaml.safe_load(result.stdout)["data"]["notes"]
    assert (
        f"kubectl -n {NAMESPACE} exec -i deploy/{DEFAULT_NAME}-worker -- "
        f"streamcore produce {CONFIG_DIR} -"
    ) in text
    sample = text.split("echo '", 1)[1].split("'", 1)[0]
    assert json.loads(sample)[0]["type"] == "example"
    assert f"port-forward deploy/{DEFAULT_NAME}-worker 9100:9100" in text
    assert "curl -s http://127.0.0.1:9100/metrics" in text
    assert "WARNING: worker.replicaCount (8) is above kafka.topics.partitions (6)" in text
    assert f"logs deploy/{DEFAULT_NAME}-scheduler" in text
    assert f"port-forward svc/{DEFAULT_NAME}-api 5000:5000" in text
