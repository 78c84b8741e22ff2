"""Install what is missing, and only that: Debian packages, the virtualenv, the front end.

Runs on the system Python with the standard library only (the virtualenv may not exist yet).
`python3 -m stack.install` for the stack; `--for-tests` adds what the tests need (Chromium,
docker-compose for config checks). Grafana comes from its own APT repository where that answers
(stack/grafana.py).
"""

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from stack import grafana

ROOT = Path(__file__).resolve().parent.parent
# libnginx-mod-http-js: njs, with which nginx bounds the board's Prometheus queries (nginx/prometheus_read.js).
STACK_PACKAGES = ["mariadb-server", "mariadb-client", "nginx", "libnginx-mod-http-js", "haproxy", "prometheus",
                  "prometheus-mysqld-exporter", "prometheus-blackbox-exporter", "prometheus-alertmanager", "monit",
                  "tini", "openssl", "ca-certificates",
                  "galera-4", "mariadb-backup", "socat"]  # the Galera cluster and its state transfers
TEST_PACKAGES = ["chromium", "docker-compose", "wrk"]
NODE_PACKAGES = ["nodejs", "npm"]


def step(message: str) -> None:
    print(f"==> {message}", flush=True)


def missing_packages(packages: list[str]) -> list[str]:
    missing = []
    for package in packages:
        status = subprocess.run(["dpkg-query", "-W", "-f=${Status}", package], capture_output=True, text=True)
        if "install ok installed" not in status.stdout:
            missing.append(package)
    return missing


def apt_install(packages: list[str]) -> None:
    missing = missing_packages(packages)
    if not missing:
        return
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    step(f"apt: installing {' '.join(missing)}")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run([*sudo, "apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run([*sudo, "apt-get", "install", "-y", "-q", "--no-install-recommends", *missing],
                   check=True, env=env)


def _digest(*paths: Path) -> str:
    h = hashlib.sha256()
    for path in paths:
        if path.exists():
            h.update(path.read_bytes())
    return h.hexdigest()


def virtualenv() -> None:
    venv = ROOT / ".venv"
    stamp = venv / ".requirements.sha256"
    wanted = _digest(ROOT / "requirements.txt", ROOT / "requirements-dev.txt")
    if stamp.exists() and stamp.read_text() == wanted:
        return
    started = time.monotonic()
    if not (venv / "bin" / "python").exists():
        step("python: creating .venv")
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    step("python: installing requirements-dev.txt into .venv (pinned)")
    pip = subprocess.Popen([str(venv / "bin" / "pip"), "install", "--disable-pip-version-check", "--progress-bar",
                            "off", "-r", str(ROOT / "requirements-dev.txt")],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    for line in pip.stdout:  # one short line per package, so a slow install visibly moves
        if line.startswith(("Collecting", "ERROR")):
            print(f"    {line.strip()[:110]}", flush=True)
    if pip.wait() != 0:
        raise SystemExit("pip install failed (see above)")
    stamp.write_text(wanted)
    step(f"python: ready in {time.monotonic() - started:.0f} s")


def frontend() -> None:
    """npm ci when the lock file changed, npm run build when a source is newer than the bundle."""
    web = ROOT / "frontend"
    if not (web / "package.json").exists():
        return
    if not shutil.which("npm"):
        apt_install(NODE_PACKAGES)
    stamp = web / "node_modules" / ".lock.sha256"
    wanted = _digest(web / "package-lock.json")
    if not stamp.exists() or stamp.read_text() != wanted:
        step("frontend: npm ci")
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=web, check=True)
        stamp.write_text(wanted)
    built = web / "dist" / "index.html"
    sources = [p for d in ("src", "public") if (web / d).exists() for p in (web / d).rglob("*") if p.is_file()]
    sources += [web / n for n in ("index.html", "board.html", "vite.config.js", "package.json") if (web / n).exists()]
    if not built.exists() or max(p.stat().st_mtime for p in sources) > built.stat().st_mtime:
        step("frontend: npm run build")
        subprocess.run(["npm", "run", "build", "--silent"], cwd=web, check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--for-tests", action="store_true", help="also what the tests need")
    args = parser.parse_args()
    apt_install(STACK_PACKAGES + (TEST_PACKAGES if args.for_tests else []))
    virtualenv()
    frontend()
    grafana.ensure()


if __name__ == "__main__":
    main()
