"""The Helm chart renders for every environment and every manifest is one Kubernetes accepts.

Built-in kinds are validated against the Kubernetes JSON schemas (kubernetes-validate, strict:
an unknown field fails); the custom resources (ExternalSecret, PrometheusRule, ApplicationSet)
have no schema there, so their required fields are checked here.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import yaml

from incident_response.config import Settings
from tests.deploy.chart import (
    CHART,
    ENVIRONMENTS,
    PLATFORM,
    ROOT,
    argocd_values,
    helm,
    helm_chart,
    platform_entry,
    render,
    rendered,
)

kubernetes_validate = pytest.importorskip("kubernetes_validate")
promql = pytest.importorskip("promql_parser")

KUBERNETES_VERSION = "1.33"
CUSTOM_KINDS = {"ExternalSecret", "PrometheusRule", "PodMonitor"}
SERVICE_SECRETS = {"audit-key", "api-token-key", "grafana-oncall-hmac"}


def pods(environment: str) -> list[dict[str, Any]]:
    return [d["spec"]["template"]["spec"] for d in rendered(environment).of_kind("Deployment")]


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_every_manifest_of_every_environment_validates_against_the_kubernetes_schemas(
    environment: str,
) -> None:
    manifests = rendered(environment).manifests
    built_in = [m for m in manifests if m["kind"] not in CUSTOM_KINDS]
    assert {m["kind"] for m in manifests} >= {
        "Deployment", "Service", "Ingress", "ServiceAccount", "NetworkPolicy",
        "ExternalSecret", "PrometheusRule", "ConfigMap",
    }  # fmt: skip
    for manifest in built_in:
        kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_helm_lint_strict_finds_no_problem(environment: str) -> None:
    assert helm_chart.lint(environment) == []


def test_the_embedded_default_runs_one_pod_holding_the_data_dir_and_aws_runs_both_roles() -> None:
    development = rendered("development")
    (only,) = development.of_kind("Deployment")
    assert only["spec"]["replicas"] == 1
    assert only["spec"]["strategy"]["type"] == "Recreate"
    assert only["spec"]["template"]["spec"]["containers"][0]["args"][-2:] == ["--role", "all"]
    (claim,) = development.of_kind("PersistentVolumeClaim")
    volumes = {v["name"]: v for v in only["spec"]["template"]["spec"]["volumes"]}
    assert volumes["data"]["persistentVolumeClaim"]["claimName"] == claim["metadata"]["name"]

    for environment in ("staging", "production"):
        result = rendered(environment)
        processor = result.one("Deployment", "-processor")
        webhook = result.one("Deployment", "-webhook")
        assert processor["spec"]["replicas"] > 1
        assert webhook["spec"]["replicas"] > 1
        assert processor["spec"]["template"]["spec"]["containers"][0]["args"][-2:] == [
            "--role",
            "processor",
        ]
        assert webhook["spec"]["template"]["spec"]["containers"][0]["args"][-2:] == [
            "--role",
            "webhook",
        ]
        assert result.of_kind("PersistentVolumeClaim") == []
        service = result.one("Service")
        assert service["spec"]["selector"]["app.kubernetes.io/component"] == "webhook"


def test_a_processor_replica_count_is_ignored_on_the_embedded_default() -> None:
    values = argocd_values("development") | {"processor": {"replicas": 4}}
    (only,) = [m for m in render(values) if m["kind"] == "Deployment"]
    assert only["spec"]["replicas"] == 1


@pytest.mark.parametrize("environment", ["staging", "production"])
def test_the_service_account_carries_the_irsa_role_from_platform_yaml(environment: str) -> None:
    account = rendered(environment).one("ServiceAccount")
    role = platform_entry(environment)["platformRoleArn"]
    assert role.startswith("arn:aws:iam::")
    # `helm template -f values-<env>.yaml` alone (no ArgoCD parameters) gets the same role
    from_file = yaml.safe_load((CHART / f"values-{environment}.yaml").read_text())
    assert from_file["aws"]["platformRoleArn"] == role
    assert account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"] == role
    for pod in pods(environment):
        assert pod["serviceAccountName"] == account["metadata"]["name"]


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_pods_run_non_root_on_a_read_only_root_with_a_writable_data_dir(environment: str) -> None:
    for pod in pods(environment):
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] != 0
        (container,) = pod["containers"]
        security = container["securityContext"]
        assert security["readOnlyRootFilesystem"] is True
        assert security["allowPrivilegeEscalation"] is False
        assert security["capabilities"]["drop"] == ["ALL"]
        mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
        volumes = {v["name"]: v for v in pod["volumes"]}
        assert set(volumes[mounts["/data"]]) & {"emptyDir", "persistentVolumeClaim"}
        env = {e["name"]: e for e in container["env"]}
        assert env["INCIDENT_RESPONSE_DATA_DIR"]["value"] == "/data"
        assert env["INCIDENT_RESPONSE_ENVIRONMENT"]["value"] == environment
        assert env["OTEL_EXPORTER_OTLP_ENDPOINT"]["value"].endswith(":4318")
        assert container["resources"]["requests"]["memory"]
        assert container["resources"]["limits"]["memory"]
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert container["startupProbe"]["httpGet"]["path"] == "/healthz"
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert not container["image"].endswith(":latest")


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_network_policy_admits_ingress_nginx_to_the_http_pods_and_lets_out_dns_and_https(
    environment: str,
) -> None:
    result = rendered(environment)
    service = result.one("Service")
    from_nginx = result.one("NetworkPolicy", "-from-ingress-nginx")
    assert from_nginx["spec"]["podSelector"]["matchLabels"] == service["spec"]["selector"]
    (rule,) = from_nginx["spec"]["ingress"]
    (peer,) = rule["from"]
    assert peer["namespaceSelector"]["matchLabels"] == {
        "kubernetes.io/metadata.name": "ingress-nginx"
    }

    base = result.one("NetworkPolicy", "incident-response")
    assert base["spec"]["policyTypes"] == ["Ingress", "Egress"]
    egress_ports = {(p["port"], p["protocol"]) for r in base["spec"]["egress"] for p in r["ports"]}
    assert {(53, "UDP"), (53, "TCP"), (443, "TCP")} <= egress_ports

    ingress = result.one("Ingress")
    assert ingress["spec"]["ingressClassName"] == "nginx"
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend["name"] == service["metadata"]["name"]


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_external_secret_projects_the_environments_secrets_into_real_settings(
    environment: str,
) -> None:
    result = rendered(environment)
    secret = result.one("ExternalSecret")
    assert secret["apiVersion"] == "external-secrets.io/v1"
    spec = secret["spec"]
    assert spec["secretStoreRef"]["name"]
    assert spec["secretStoreRef"]["kind"] in ("SecretStore", "ClusterSecretStore")
    target = spec["target"]["name"]
    remote = {}
    for entry in spec["data"]:
        key = entry["remoteRef"]["key"]
        assert re.fullmatch(rf"incident-response/{environment}/[a-z0-9-]+", key), key
        remote[key.rsplit("/", 1)[1]] = entry["secretKey"]
    assert set(remote) >= SERVICE_SECRETS
    assert {"slack-bot-token", "statuspage-api-key", "linear-api-key"} <= set(remote)
    assert "openai-api-key" not in remote  # omitted by default: Anthropic is the LLM

    settings = {name.upper() for name in Settings.model_fields}
    for secret_key in remote.values():
        assert secret_key in settings, f"{secret_key} is no setting of the service"
    for pod in pods(environment):
        (container,) = pod["containers"]
        # not optional: no pod before the first sync (embedded would make keys of its own)
        assert container["envFrom"] == [{"secretRef": {"name": target}}]


def test_an_omitted_vendor_is_not_projected_and_a_required_secret_cannot_be_omitted() -> None:
    values = argocd_values("staging")
    values["externalSecret"] = {"omit": ["statuspage-api-key", "github-token"]}
    (secret,) = [m for m in render(values) if m["kind"] == "ExternalSecret"]
    names = {e["remoteRef"]["key"].rsplit("/", 1)[1] for e in secret["spec"]["data"]}
    assert not names & {"statuspage-api-key", "github-token"}
    assert "openai-api-key" in names  # the default omission was replaced
    assert "linear-api-key" in names

    values["externalSecret"] = {"omit": ["audit-key"]}
    with pytest.raises(helm.HelmError, match="audit-key is required, it cannot be omitted"):
        render(values)


def test_aws_pods_read_the_webhook_secret_of_their_own_environment() -> None:
    for environment in ("staging", "production"):
        for pod in pods(environment):
            env = {e["name"]: e.get("value") for e in pod["containers"][0]["env"]}
            assert (
                env["GRAFANA_ONCALL_HMAC_SECRET_ID"]
                == f"incident-response/{environment}/grafana-oncall-hmac"
            )
            assert env["INCIDENTS_TABLE_NAME"] == f"incident-response-{environment}-incidents"
            assert f"-{environment}-events.fifo" in env["INCIDENT_EVENTS_QUEUE_URL"]


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_slo_alerts_watch_the_services_metrics_and_fire_on_a_single_event(environment: str) -> None:
    rule = rendered(environment).one("PrometheusRule")
    assert rule["apiVersion"] == "monitoring.coreos.com/v1"
    (group,) = rule["spec"]["groups"]
    alerts = {r["alert"]: r for r in group["rules"] if "alert" in r}
    records = {r["record"]: r for r in group["rules"] if "record" in r}
    for entry in group["rules"]:
        promql.parse(entry["expr"])  # Prometheus's grammar (a port of its parser): raises if wrong
        assert set(entry) <= {"alert", "record", "expr", "for", "labels", "annotations"}
    assert set(alerts) == {
        "IncidentAssemblySlow",
        "DirectoryLookupFailing",
        "StatusPagePublishFailing",
    }
    slow = records["incident_response:assembly_slow:count"]["expr"]
    assert "assembly_duration_seconds_count" in slow
    assert 'assembly_duration_seconds_bucket{namespace="' in slow
    assert 'le=~"300|300.0"' in slow  # prometheus_client writes 300.0
    assert "directory_lookup_failure_count_total" in alerts["DirectoryLookupFailing"]["expr"]
    assert 'outcome="failed"' in alerts["StatusPagePublishFailing"]["expr"]
    for alert in alerts.values():
        # `unless ... offset` catches a series born with its first event (increase() sees 0).
        assert "unless" in alert["expr"]
        assert "offset" in alert["expr"]
        assert "for" not in alert  # one event is enough at P1 volumes
        assert alert["labels"]["severity"] in ("warning", "critical")
        assert alert["annotations"]["summary"]


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_prometheus_scrapes_metrics_of_every_pod_and_selects_the_rules(environment: str) -> None:
    result = rendered(environment)
    monitor = result.one("PodMonitor")
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    (endpoint,) = monitor["spec"]["podMetricsEndpoints"]
    assert endpoint["path"] == "/metrics"
    for deployment in result.of_kind("Deployment"):
        pod = deployment["spec"]["template"]
        assert (
            monitor["spec"]["selector"]["matchLabels"].items() <= pod["metadata"]["labels"].items()
        )
        ports = {p["name"] for p in pod["spec"]["containers"][0]["ports"]}
        assert endpoint["port"] in ports

    selected = argocd_values(environment) | {"metrics": {"selectorLabels": {"release": "kps"}}}
    manifests = render(selected)
    for kind in ("PodMonitor", "PrometheusRule"):
        (found,) = [m for m in manifests if m["kind"] == kind]
        assert found["metadata"]["labels"]["release"] == "kps"


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_dashboard_config_map_holds_a_grafana_dashboard_of_this_environment(
    environment: str,
) -> None:
    result = rendered(environment)
    config_map = result.one("ConfigMap", "-dashboard")
    assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
    dashboard = json.loads(config_map["data"]["incident-response.json"])
    assert environment in dashboard["title"]
    expressions = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    for expression in expressions:
        promql.parse(expression)
    queries = " ".join(expressions)
    assert f'namespace="{result.namespace}"' in queries
    for metric in ("assembly_duration_seconds_bucket", "directory_lookup_failure_count_total",
                   "statuspage_publish_count_total", "approval_gate_latency_seconds_bucket"):  # fmt: skip
        assert metric in queries


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        ({"environment": "prod"}, "environment must be development, staging or production"),
        ({"image": {"tag": "latest"}}, "image.tag must be a pinned release tag"),
        (
            {"backend": "aws", "aws": {"platformRoleArn": ""}},
            "backend aws needs aws.platformRoleArn",
        ),
        ({"backend": "sqs"}, "backend must be embedded or aws"),
    ],
)
def test_values_that_would_deploy_something_broken_are_refused_by_name(
    change: dict[str, Any], complaint: str
) -> None:
    values = argocd_values("staging")
    for key, value in change.items():
        values[key] = (values.get(key) or {}) | value if isinstance(value, dict) else value
    with pytest.raises(helm.HelmError, match=re.escape(complaint)):
        render(values)


def test_the_applicationset_makes_one_application_per_platform_entry_from_this_chart() -> None:
    entries = yaml.safe_load(PLATFORM.read_text())
    assert [e["environment"] for e in entries] == list(ENVIRONMENTS)
    appset = yaml.safe_load((ROOT / "deploy" / "argocd" / "applicationset.yaml").read_text())
    assert appset["apiVersion"] == "argoproj.io/v1alpha1"
    assert appset["kind"] == "ApplicationSet"
    spec = appset["spec"]
    (generator,) = spec["generators"]
    assert generator["git"]["files"] == [{"path": "deploy/platform.yaml"}]
    template = spec["template"]
    assert template["metadata"]["name"]
    assert template["spec"]["project"]
    source = template["spec"]["source"]
    assert (ROOT / source["path"]) == CHART
    assert template["spec"]["destination"]["server"] == "{{ .cluster }}"
    parameters = {p["name"]: p["value"] for p in source["helm"]["parameters"]}
    assert parameters == {
        "environment": "{{ .environment }}",
        "aws.platformRoleArn": "{{ .platformRoleArn }}",
    }
    (values_file,) = source["helm"]["valueFiles"]
    for entry in entries:
        assert (CHART / values_file.replace("{{ .environment }}", entry["environment"])).is_file()
        assert {"cluster", "namespace", "platformRoleArn", "autoSync"} <= set(entry)
