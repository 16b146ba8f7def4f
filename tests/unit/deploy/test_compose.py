"""docker-compose.yml, checked statically: no Docker engine exists here, so check what compose would.

The schema below is a subset of the Compose Specification's JSON schema (the keys this project uses,
with their types), strict about unknown keys so that a typo fails here rather than at ``docker compose
up``. On top of it: references (depends_on, volumes, build context, Dockerfile COPY sources), commands
(console scripts of pyproject.toml, with flags their own argparse accepts), pinned image tags, the
Kafka version of the local broker, and metrics ports that match Prometheus' scrape targets.
"""

from __future__ import annotations

import argparse
import importlib
import re
import tomllib
from functools import cache
from typing import Any

import jsonschema
import pytest
import yaml

from tests.support.paths import REPO as ROOT

COMPOSE = ROOT / "docker-compose.yml"

_STR_LIST = {"type": "array", "items": {"type": "string"}}
_STR_OR_LIST = {"oneOf": [{"type": "string"}, _STR_LIST]}
_ENV = {
    "oneOf": [
        {
            "type": "object",
            "patternProperties": {
                "^[A-Za-z_][A-Za-z0-9_]*$": {"type": ["string", "number", "boolean", "null"]}
            },
            "additionalProperties": False,
        },
        _STR_LIST,
    ]
}
_DURATION = {"type": "string", "pattern": r"^(\d+(\.\d+)?(us|ms|s|m|h))+$"}
SERVICE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "image": {"type": "string"},
        "build": {
            "oneOf": [
                {"type": "string"},
                {
                    "type": "object",
                    "properties": {
                        "context": {"type": "string"},
                        "dockerfile": {"type": "string"},
                        "args": _ENV,
                        "target": {"type": "string"},
                    },
                    "required": ["context"],
                    "additionalProperties": False,
                },
            ]
        },
        "command": _STR_OR_LIST,
        "entrypoint": _STR_OR_LIST,
        "environment": _ENV,
        "hostname": {"type": "string"},
        "restart": {"enum": ["no", "always", "on-failure", "unless-stopped"]},
        "ports": {"type": "array", "items": {"type": "string", "pattern": r"^(\d+:)?\d+(/(tcp|udp))?$"}},
        "volumes": _STR_LIST,
        "user": {"type": "string"},
        "working_dir": {"type": "string"},
        "depends_on": {
            "oneOf": [
                _STR_LIST,
                {
                    "type": "object",
                    "additionalProperties": {
                        "type": "object",
                        "properties": {
                            "condition": {
                                "enum": [
                                    "service_started",
                                    "service_healthy",
                                    "service_completed_successfully",
                                ]
                            },
                            "restart": {"type": "boolean"},
                            "required": {"type": "boolean"},
                        },
                        "required": ["condition"],
                        "additionalProperties": False,
                    },
                },
            ]
        },
        "healthcheck": {
            "type": "object",
            "properties": {
                "test": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
                "interval": _DURATION,
                "timeout": _DURATION,
                "retries": {"type": "integer", "minimum": 1},
                "start_period": _DURATION,
                "disable": {"type": "boolean"},
            },
            "required": ["test"],
            "additionalProperties": False,
        },
    },
    "anyOf": [{"required": ["image"]}, {"required": ["build"]}],
    "additionalProperties": False,
}
COMPOSE_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {
        "name": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]*$"},
        "services": {
            "type": "object",
            "patternProperties": {"^[a-zA-Z0-9._-]+$": SERVICE_SCHEMA},
            "additionalProperties": False,
            "minProperties": 1,
        },
        "volumes": {"type": "object", "additionalProperties": {"type": ["object", "null"]}},
        "networks": {"type": "object"},
    },
    "patternProperties": {"^x-": {}},
    "required": ["services"],
    "additionalProperties": False,
}


@cache
def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(data, dict)
    return data


def services() -> dict[str, dict[str, Any]]:
    return compose()["services"]  # type: ignore[no-any-return]


def command_of(service: dict[str, Any]) -> list[str]:
    cmd = service.get("command", [])
    return cmd.split() if isinstance(cmd, str) else list(cmd)


def env_of(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {k: str(v) for k, v in env.items()}


def console_scripts() -> dict[str, str]:
    with (ROOT / "pyproject.toml").open("rb") as fh:
        return dict(tomllib.load(fh)["project"]["scripts"])


def test_compose_file_matches_the_schema_subset() -> None:
    jsonschema.Draft202012Validator.check_schema(COMPOSE_SCHEMA)
    errors = sorted(jsonschema.Draft202012Validator(COMPOSE_SCHEMA).iter_errors(compose()), key=str)
    assert not errors, "; ".join(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors[:5])


def test_the_stack_has_its_services() -> None:
    assert set(services()) == {
        "kafka",
        "kafka-init",
        "producer",
        "processor-1",
        "processor-2",
        "prometheus",
        "grafana",
    }


def test_depends_on_names_existing_services_without_cycles() -> None:
    graph: dict[str, list[str]] = {}
    for name, svc in services().items():
        deps = svc.get("depends_on", [])
        graph[name] = list(deps)
        for dep in graph[name]:
            assert dep in services(), f"{name} depends on unknown service {dep}"
        if isinstance(deps, dict) and any(d["condition"] == "service_healthy" for d in deps.values()):
            for dep, spec in deps.items():
                if spec["condition"] == "service_healthy":
                    assert "healthcheck" in services()[dep], (
                        f"{name} waits for {dep} healthy, it has no healthcheck"
                    )

    def visit(node: str, path: tuple[str, ...]) -> None:
        assert node not in path, f"depends_on cycle: {' -> '.join((*path, node))}"
        for dep in graph[node]:
            visit(dep, (*path, node))

    for name in graph:
        visit(name, ())


def test_app_services_start_after_topics_exist_and_kafka_init_after_kafka_is_healthy() -> None:
    assert services()["kafka-init"]["depends_on"] == {"kafka": {"condition": "service_healthy"}}
    for name in ("producer", "processor-1", "processor-2"):
        assert services()[name]["depends_on"] == {
            "kafka-init": {"condition": "service_completed_successfully"}
        }
        assert env_of(services()[name])["KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"


def test_bind_mounts_exist_and_named_volumes_are_declared() -> None:
    declared = set(compose().get("volumes") or {})
    used: set[str] = set()
    for name, svc in services().items():
        for spec in svc.get("volumes", []):
            source, target = spec.split(":")[:2]
            assert target.startswith("/"), f"{name}: container path {target} is not absolute"
            if source.startswith((".", "/")):
                assert (ROOT / source).exists(), f"{name}: mounted host path {source} is not in the repo"
            else:
                assert source in declared, f"{name}: named volume {source} is not declared"
                used.add(source)
    assert used == declared, f"declared but unused volumes: {declared - used}"


def test_build_context_dockerfile_and_its_copy_sources_exist() -> None:
    builds = {name: svc["build"] for name, svc in services().items() if "build" in svc}
    assert builds, "no service builds the app image"
    for name, build in builds.items():
        context = ROOT / (build if isinstance(build, str) else build["context"])
        dockerfile = context / (
            build.get("dockerfile", "Dockerfile") if isinstance(build, dict) else "Dockerfile"
        )
        assert context.is_dir() and dockerfile.is_file(), f"{name}: {dockerfile} missing"
        for line in dockerfile.read_text().splitlines():
            if line.startswith("COPY ") and "--from" not in line:
                for src in line.split()[1:-1]:
                    assert (context / src).exists(), f"{dockerfile}: COPY source {src} missing"


def test_images_are_pinned() -> None:
    for name, svc in services().items():
        image = svc.get("image")
        assert image, f"{name} has no image name"
        repo, _, tag = image.rpartition(":")
        assert repo and tag and tag != "latest", f"{name}: image {image} is not pinned to a tag"
        if "build" not in svc:  # third-party images: a version tag
            assert re.fullmatch(r"v?\d+(\.\d+){1,2}", tag), f"{name}: {image} is not pinned to a version"
    dockerfile = (ROOT / "deploy/docker/Dockerfile").read_text()
    base = re.search(r"^FROM (\S+)", dockerfile, re.M)
    assert base and re.fullmatch(r"python:\d+\.\d+\.\d+-slim-\w+", base.group(1)), base


def test_kafka_image_is_the_local_brokers_version() -> None:
    lib = (ROOT / "deploy/kafka/lib.sh").read_text()
    m = re.search(r"^KAFKA_DEFAULT_VERSION=(\S+)$", lib, re.M)
    assert m, "KAFKA_DEFAULT_VERSION not found in deploy/kafka/lib.sh"
    assert services()["kafka"]["image"] == f"apache/kafka:{m.group(1)}"


def test_kafka_is_a_single_kraft_node_without_topic_auto_creation() -> None:
    env = env_of(services()["kafka"])
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"] == f"{env['KAFKA_NODE_ID']}@kafka:9093"
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    assert "PLAINTEXT://kafka:9092" in env["KAFKA_ADVERTISED_LISTENERS"]
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", env["CLUSTER_ID"]), "CLUSTER_ID must be a base64 UUID"
    assert "healthcheck" in services()["kafka"]


def _parser_of(script: str) -> argparse.ArgumentParser | None:
    module_name, _, _ = console_scripts()[script].partition(":")
    module = importlib.import_module(module_name)
    build = getattr(module, "build_parser", None)
    return build() if build is not None else None


APP_SERVICES = ("kafka-init", "producer", "processor-1", "processor-2")


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_commands_are_console_scripts_with_flags_they_accept(name: str) -> None:
    cmd = command_of(services()[name])
    assert cmd, f"{name} has no command"
    scripts = console_scripts()
    assert cmd[0] in scripts, f"{name} runs {cmd[0]}, not a console script of pyproject.toml"
    parser = _parser_of(cmd[0])
    if parser is not None:
        try:
            parser.parse_args(cmd[1:])
        except (SystemExit, Exception) as exc:  # argparse exits, our parsers raise UsageError
            pytest.fail(f"{name}: {' '.join(cmd)} is refused by its own parser: {exc}")


def test_metrics_ports_match_prometheus_scrape_targets() -> None:
    prometheus = yaml.safe_load((ROOT / "deploy/prometheus/prometheus.yml").read_text())
    targets = {
        t
        for job in prometheus["scrape_configs"]
        for sc in job.get("static_configs", [])
        for t in sc["targets"]
        if not t.startswith("localhost:")
    }
    for target in targets:
        host, _, port = target.partition(":")
        assert host in services(), f"Prometheus scrapes {target}, no such compose service"
        env = env_of(services()[host])
        assert env.get("TICKER_METRICS_PORT") == port, (
            f"{host} serves metrics on {env.get('TICKER_METRICS_PORT')}"
        )
        assert env.get("TICKER_METRICS_HOST") == "0.0.0.0", f"{host} must serve metrics beyond localhost"
    assert {t.partition(":")[0] for t in targets} == {"producer", "processor-1", "processor-2"}


def test_prometheus_and_grafana_mount_their_config() -> None:
    prom = services()["prometheus"]
    assert "./deploy/prometheus:/etc/prometheus:ro" in prom["volumes"]
    assert "--config.file=/etc/prometheus/prometheus.yml" in command_of(prom)
    grafana_mounts = {v.split(":")[1]: v.split(":")[0] for v in services()["grafana"]["volumes"]}
    assert grafana_mounts["/etc/grafana/provisioning"] == "./deploy/grafana/provisioning"
    dashboards = yaml.safe_load(
        (ROOT / "deploy/grafana/provisioning/dashboards/tickerstream.yml").read_text()
    )
    path = dashboards["providers"][0]["options"]["path"]
    assert grafana_mounts[path] == "./deploy/grafana/dashboards", "dashboard provider path is not mounted"


@pytest.mark.parametrize("name", ["producer", "processor-1", "processor-2"])
def test_services_serve_metrics_where_prometheus_scrapes(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The service's command, parsed with its environment, binds 0.0.0.0 on its scrape target's port."""
    prometheus = yaml.safe_load((ROOT / "deploy/prometheus/prometheus.yml").read_text())
    ports = {
        int(t.partition(":")[2])
        for job in prometheus["scrape_configs"]
        for sc in job.get("static_configs", [])
        for t in sc["targets"]
        if t.partition(":")[0] == name
    }
    service = services()[name]
    for key, value in env_of(service).items():
        monkeypatch.setenv(key, value)
    cmd = command_of(service)
    parser = _parser_of(cmd[0])
    assert parser is not None
    args = parser.parse_args(cmd[1:])
    assert not args.no_metrics
    assert args.metrics_host == "0.0.0.0" and ports == {args.metrics_port}, (args, ports)
