"""docker-compose and Kubernetes run the same services, ports and variables as `pmm up`.

They cannot be run here (no container engine); this checks what can go wrong in them
silently: a misspelt variable, a port or command that drifted from the local stack.
"""

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from pmm_kit.settings import ServiceSettings
from pmm_local.services import SERVICES, Service
from pmm_reporting.settings import ReportingSettings
from pmm_review.settings import ReviewSettings
from pmm_scoring.settings import ScoringSettings
from pmm_submission.settings import SubmissionSettings

ROOT = Path(__file__).resolve().parents[3]
SETTINGS: dict[str, type[ServiceSettings]] = {
    "submission": SubmissionSettings,
    "scoring": ScoringSettings,
    "review": ReviewSettings,
    "reporting": ReportingSettings,
}


def variables_of(settings: type[ServiceSettings]) -> set[str]:
    return {
        str(field.validation_alias)
        for field in settings.model_fields.values()
        if field.validation_alias is not None
    }


def compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return document


def kubernetes_documents() -> list[dict[str, Any]]:
    documents: list[dict[str, Any]] = []
    for path in sorted((ROOT / "deploy" / "k8s").glob("*.yaml")):
        documents.extend(d for d in yaml.safe_load_all(path.read_text()) if d)
    return documents


def deployment(name: str) -> dict[str, Any]:
    for document in kubernetes_documents():
        if document["kind"] == "Deployment" and document["metadata"]["name"] == name:
            return document
    raise AssertionError(f"no Deployment {name}")


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_compose_runs_each_service_as_the_local_stack_does(service: Service) -> None:
    definition = compose()["services"][service.name]
    environment = definition["environment"]

    assert definition["command"] == [service.command, "serve"]
    assert definition["ports"] == [f"{service.default_port}:{service.default_port}"]
    assert environment[f"{service.env_prefix}_PORT"] == str(service.default_port)
    assert environment["DATABASE_URL"].startswith(f"postgresql://pmm_{service.name}:")
    assert set(environment) <= variables_of(SETTINGS[service.name])


def test_compose_scales_the_scoring_worker() -> None:
    worker = compose()["services"]["scoring-worker"]

    assert worker["command"] == ["pmm-scoring", "worker"]
    # A fixed port or container name would make `--scale` fail.
    assert "ports" not in worker
    assert "container_name" not in worker
    assert set(worker["environment"]) <= variables_of(ScoringSettings)


def test_compose_migrates_before_any_service_starts() -> None:
    services = compose()["services"]

    assert services["migrate"]["command"] == ["pmm", "migrate"]
    for name in ("submission", "scoring", "scoring-worker", "review", "reporting"):
        condition = services[name]["depends_on"]["migrate"]["condition"]
        assert condition == "service_completed_successfully"


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_kubernetes_runs_each_service_as_the_local_stack_does(service: Service) -> None:
    [container] = deployment(service.name)["spec"]["template"]["spec"]["containers"]
    variables = {item["name"]: item.get("value") for item in container["env"]}

    assert container["command"] == [service.command, "serve"]
    assert container["ports"][0]["containerPort"] == service.default_port
    assert variables[f"{service.env_prefix}_PORT"] == str(service.default_port)
    assert set(variables) <= variables_of(SETTINGS[service.name])
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"


def test_kubernetes_autoscales_the_scoring_worker() -> None:
    worker = deployment("scoring-worker")
    [autoscaler] = [
        d for d in kubernetes_documents() if d["kind"] == "HorizontalPodAutoscaler"
    ]

    [container] = worker["spec"]["template"]["spec"]["containers"]
    assert container["command"] == ["pmm-scoring", "worker"]
    assert autoscaler["spec"]["scaleTargetRef"]["name"] == "scoring-worker"
    assert autoscaler["spec"]["maxReplicas"] > autoscaler["spec"]["minReplicas"]


def test_the_shared_configuration_names_only_known_variables() -> None:
    [config] = [
        d
        for d in kubernetes_documents()
        if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "pmm-config"
    ]

    assert set(config["data"]) <= variables_of(ServiceSettings)
    assert config["data"]["PMM_JWT_ALGORITHM"] == "RS256"


def test_nats_runs_with_jetstream_everywhere() -> None:
    for name in ("nats.conf", "nats-single.conf"):
        assert "jetstream {" in (ROOT / "deploy" / "nats" / name).read_text()
    assert "--config" in compose()["services"]["nats"]["command"]


def test_the_readme_documents_every_configuration_variable() -> None:
    readme = (ROOT / "README.md").read_text()
    documented = set(re.findall(r"^\| `([A-Z_<>]+)` \|", readme, flags=re.MULTILINE))
    # PMM_SCORING_PORT and its kind are documented once, as PMM_<SERVICE>_PORT.
    generic = re.compile(r"^PMM_(?:" + "|".join(s.upper() for s in SETTINGS) + ")_")
    variables = {
        generic.sub("PMM_<SERVICE>_", variable)
        if variable.endswith(("_PORT", "_HOST", "_SCHEMA", "_DATABASE_URL"))
        else variable
        for settings in SETTINGS.values()
        for variable in variables_of(settings)
    }

    missing = sorted(variables - documented)

    assert missing == []
