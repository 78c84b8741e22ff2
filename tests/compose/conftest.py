"""Checks of docker-compose.yml, the Dockerfiles and the containers' configs that need no Docker engine.

The tools: Debian's `docker-compose` 1.29.2 (`make install-test`), check-jsonschema and hadolint
(requirements-dev.txt), promtool, amtool, monit and nginx (the native stack's packages).
"""

import os
import posixpath
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from stack.settings import ROOT

COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILES = sorted(ROOT.glob("docker/*/Dockerfile"))
VENV_BIN = ROOT / ".venv" / "bin"

# Files the compose setup refers to that other issues deliver; until they exist, the checks that
# need them skip with this reason (and run as soon as the files are there).
PENDING = {
    "grafana/dashboards": "the dashboards JSON of the Grafana issue (grafana/dashboards/*.json) is not in the repo yet",
}


def tool(name: str) -> str:
    """The path of a tool, from PATH or the virtualenv; skips with the way to install it."""
    found = shutil.which(name) or (str(VENV_BIN / name) if (VENV_BIN / name).exists() else None)
    if not found:
        pytest.skip(f"{name} is not installed (make install-test installs it)")
    return found


def run(*command, check: bool = True, **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run([str(c) for c in command], capture_output=True, text=True, **kwargs)
    if check and done.returncode != 0:
        pytest.fail(f"{' '.join(map(str, command))} exited {done.returncode}:\n{done.stdout}{done.stderr}")
    return done


@pytest.fixture(scope="session")
def env_file(tmp_path_factory) -> Path:
    """A .env as `make compose-env` writes it (in a temporary place, never the repository's)."""
    path = tmp_path_factory.mktemp("compose-env") / ".env"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIGGY_")}
    run("python3", "-m", "stack", "compose-env", "--out", path, env={**env, "PYTHONPATH": str(ROOT)}, cwd=ROOT)
    return path


@pytest.fixture(scope="session")
def secrets(env_file) -> dict[str, str]:
    from stack import secrets as secret_names

    values = secret_names.read(env_file)
    return {name: values[name] for name in secret_names.NAMES}


@pytest.fixture(scope="session")
def compose(env_file) -> dict:
    """docker-compose.yml as Compose resolves it (anchors merged, ${...} interpolated)."""
    done = run(tool("docker-compose"), "-f", COMPOSE_FILE, "--env-file", env_file, "config", cwd=ROOT)
    return yaml.safe_load(done.stdout)


@pytest.fixture(scope="session")
def services(compose) -> dict:
    return compose["services"]


@pytest.fixture(scope="session")
def bare_services(tmp_path_factory) -> dict:
    """The services as Compose resolves them with no .env and nothing set (a fresh clone)."""
    empty = tmp_path_factory.mktemp("no-env") / ".env"
    empty.write_text("")
    clean = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(empty.parent)}
    done = run(tool("docker-compose"), "-f", COMPOSE_FILE, "--env-file", empty, "config", cwd=ROOT, env=clean)
    return yaml.safe_load(done.stdout)["services"]


@pytest.fixture(scope="session")
def raw_compose() -> dict:
    """docker-compose.yml as written (before Compose resolves it)."""
    return yaml.safe_load(COMPOSE_FILE.read_text())


def dockerfile_instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    lines, current = [], ""
    for line in path.read_text().splitlines():
        if not current and (not line.strip() or line.lstrip().startswith("#")):
            continue
        current += line.rstrip("\\").strip() + " "
        if not line.endswith("\\"):
            lines.append(current.strip())
            current = ""
    return [(m.group(1).upper(), m.group(2)) for m in (re.match(r"(\w+)\s+(.*)", x) for x in lines) if m]


def image_files(dockerfile: Path) -> dict[str, Path]:
    """What the last stage of a Dockerfile copies from the build context: image path -> repository path."""
    workdir, files = "/", {}
    for instruction, args in dockerfile_instructions(dockerfile):
        if instruction == "FROM":
            workdir, files = "/", {}
        elif instruction == "WORKDIR":
            workdir = posixpath.join(workdir, args.strip())
        elif instruction == "COPY" and "--from=" not in args:
            *sources, destination = [a for a in shlex.split(args) if not a.startswith("--")]
            target = posixpath.normpath(posixpath.join(workdir, destination))
            for source in sources:
                path = ROOT / source
                if path.is_dir() or not (destination.endswith("/") or len(sources) > 1):
                    files[target] = path
                else:
                    files[posixpath.join(target, path.name)] = path
    return files
