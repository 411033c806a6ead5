"""Kubernetes manifests: valid against the 1.30 schemas, probed, bounded, given secrets only by reference."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
MANIFESTS = ROOT / "deploy" / "kubernetes"
KUBERNETES_VERSION = "1.30.0"
SECRETS = {"DATABASE_URL", "REDIS_URL", "XSELL_SECRET_KEYS"}
WORKLOADS = {"Deployment", "Job"}


def manifest_files() -> list[Path]:
    return sorted(p for p in MANIFESTS.rglob("*.yaml") if p.name != "kustomization.yaml")


def resources() -> list[tuple[Path, dict[str, Any]]]:
    return [
        (path, document)
        for path in manifest_files()
        for document in yaml.safe_load_all(path.read_text())
        if document
    ]


def of_kind(kind: str) -> dict[str, dict[str, Any]]:
    return {doc["metadata"]["name"]: doc for _, doc in resources() if doc["kind"] == kind}


def containers(workload: dict[str, Any]) -> list[dict[str, Any]]:
    spec = workload["spec"]["template"]["spec"]
    found: list[dict[str, Any]] = spec["containers"] + spec.get("initContainers", [])
    return found


def kustomization(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((path / "kustomization.yaml").read_text())
    return loaded


@pytest.mark.parametrize("path", manifest_files(), ids=lambda path: str(path.relative_to(MANIFESTS)))
def test_manifest_validates_against_the_kubernetes_schemas(path: Path) -> None:
    documents = [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
    assert documents
    for document in documents:
        try:
            kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as error:
            pytest.fail(f"{path.name} {document['kind']}/{document['metadata']['name']}: {error.message}")


def test_the_kustomizations_list_every_manifest_and_name_one_image() -> None:
    listed = {
        (folder / name).resolve()
        for folder in (MANIFESTS, MANIFESTS / "migrate")
        for name in kustomization(folder)["resources"]
    }
    assert listed == {path.resolve() for path in manifest_files()}
    images = [kustomization(folder)["images"] for folder in (MANIFESTS, MANIFESTS / "migrate")]
    assert images[0] == images[1], "set the same image in both kustomization.yaml files"
    for _, document in resources():
        if document["kind"] in WORKLOADS:
            assert {c["image"] for c in containers(document)} == {images[0][0]["name"]}


def test_the_deployments_and_the_migration_job_exist() -> None:
    deployments = of_kind("Deployment")
    assert set(deployments) == {"xsell-api", "xsell-worker", "xsell-scheduler", "xsell-dashboard"}
    jobs = of_kind("Job")
    assert [c["args"] for c in containers(jobs["xsell-migrate"])] == [["migrate"]]
    for name, deployment in deployments.items():
        # Each deployment runs its own xsell command (the first argument); options may follow.
        assert [c["args"][0] for c in containers(deployment)] == [name.removeprefix("xsell-")]
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
    dashboard = containers(deployments["xsell-dashboard"])[0]["args"]
    assert dashboard[dashboard.index("--api-url") + 1] == "http://xsell-api:8000"  # the API's Service


def test_every_container_has_resources_and_every_long_running_one_has_probes() -> None:
    for _, document in resources():
        if document["kind"] not in WORKLOADS:
            continue
        for container in containers(document):
            where = f"{document['metadata']['name']}/{container['name']}"
            for bound in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(container["resources"].get(bound, {})), f"{where}: {bound}"
            if document["kind"] == "Deployment":
                assert "livenessProbe" in container and "readinessProbe" in container, where


def test_the_api_is_live_on_health_and_ready_on_ready() -> None:
    (api,) = containers(of_kind("Deployment")["xsell-api"])
    assert api["livenessProbe"]["httpGet"]["path"] == "/health"
    assert api["readinessProbe"]["httpGet"]["path"] == "/ready"


def test_secrets_come_only_by_reference() -> None:
    for path, document in resources():
        assert document["kind"] != "Secret", (
            f"{path.name}: create the Secret in the cluster, do not commit it"
        )
        if document["kind"] == "ConfigMap":
            assert not SECRETS & set(document.get("data", {})), f"{path.name}: secrets in a ConfigMap"
        if document["kind"] not in WORKLOADS:
            continue
        for container in containers(document):
            env = {entry["name"]: entry for entry in container.get("env", [])}
            assert set(env) >= SECRETS, f"{document['metadata']['name']}: missing {SECRETS - set(env)}"
            for name in SECRETS:
                assert "value" not in env[name], f"{document['metadata']['name']}: {name} has a literal value"
                reference = env[name]["valueFrom"]["secretKeyRef"]
                assert reference == {"name": "xsell-secrets", "key": name}


def test_exactly_one_scheduler() -> None:
    scheduler = of_kind("Deployment")["xsell-scheduler"]
    assert scheduler["spec"]["replicas"] == 1
    assert scheduler["spec"]["strategy"] == {"type": "Recreate"}
    autoscaled = {
        hpa["spec"]["scaleTargetRef"]["name"] for hpa in of_kind("HorizontalPodAutoscaler").values()
    }
    assert autoscaled == {"xsell-api", "xsell-worker"}


def test_api_and_workers_scale_on_cpu() -> None:
    for hpa in of_kind("HorizontalPodAutoscaler").values():
        metrics = hpa["spec"]["metrics"]
        assert [(m["type"], m["resource"]["name"]) for m in metrics] == [("Resource", "cpu")]
        assert 1 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]


def test_pods_run_unprivileged() -> None:
    for _, document in resources():
        if document["kind"] not in WORKLOADS:
            continue
        pod = document["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        for container in containers(document):
            assert container["securityContext"]["allowPrivilegeEscalation"] is False
