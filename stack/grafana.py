"""Grafana natively, where it can be had: installed from Grafana's own APT repository, as Grafana
documents for Debian and Ubuntu, at the release written in grafana/VERSION.

Where the repository can't be reached (the development and CI machines reach only Debian's
archive, PyPI and npm), the installer says why in one line and goes on; PiggyBank's board then
draws the same dashboards on the Grafana port. `PIGGY_GRAFANA=off` skips Grafana altogether.
Standard library only: stack.install runs before the virtualenv exists.
"""

import os
import shutil
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

from stack.settings import ROOT, grafana_binary, grafana_off

REPOSITORY = "https://apt.grafana.com"
SIGNING_KEY = f"{REPOSITORY}/gpg-full.key"
KEYRING = Path("/etc/apt/keyrings/grafana.asc")  # apt reads an armoured key by its .asc name
SOURCE_LIST = Path("/etc/apt/sources.list.d/grafana.list")
VERSION = (ROOT / "grafana" / "VERSION").read_text().strip()
REACH_TIMEOUT = 3.0  # seconds: a firewall that drops packets must not stall `make up`
NOTE = "grafana-unavailable"  # in the run directory: why there is no Grafana, for `make up`'s last lines


def _run_dir(env) -> Path:
    return Path(env.get("PIGGY_RUN_DIR", ROOT / "run")).resolve()


def _apt(*args: str) -> subprocess.CompletedProcess:
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    return subprocess.run([*sudo, "apt-get", *args], capture_output=True, text=True,
                          env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})


def _fetch_key() -> bytes:
    with urllib.request.urlopen(SIGNING_KEY, timeout=REACH_TIMEOUT) as response:
        return response.read()


def _candidate() -> str | None:
    """The repository's version string of the release in grafana/VERSION (e.g. 12.4.0 or 12.4.0-1)."""
    listed = subprocess.run(["apt-cache", "madison", "grafana"], capture_output=True, text=True).stdout
    for line in listed.splitlines():
        parts = [p.strip() for p in line.split("|")]
        if len(parts) >= 3 and "apt.grafana.com" in parts[2] and (
                parts[1] == VERSION or parts[1].startswith((f"{VERSION}-", f"{VERSION}+"))):
            return parts[1]
    return None


def _install() -> str | None:
    """Add Grafana's repository and install the pinned release; None when done, else why not."""
    try:
        key = _fetch_key()
    except (OSError, urllib.error.URLError) as error:
        reason = getattr(error, "reason", error)
        return f"{REPOSITORY} is not reachable from this machine ({reason})"
    if b"BEGIN PGP PUBLIC KEY BLOCK" not in key:
        return f"{SIGNING_KEY} did not answer with a signing key"
    print(f"==> grafana: installing Grafana OSS {VERSION} from {REPOSITORY}", flush=True)
    KEYRING.parent.mkdir(parents=True, exist_ok=True)
    KEYRING.write_bytes(key)
    KEYRING.chmod(0o644)
    SOURCE_LIST.write_text(f"deb [signed-by={KEYRING}] {REPOSITORY} stable main\n")
    updated = _apt("update", "-qq")
    if updated.returncode != 0:
        return f"apt-get update failed for {REPOSITORY}: {updated.stderr.strip().splitlines()[-1:]}"
    version = _candidate()
    if version is None:
        return f"Grafana {VERSION} (grafana/VERSION) is not in {REPOSITORY}"
    done = _apt("install", "-y", "-q", "--no-install-recommends", f"grafana={version}")
    if done.returncode != 0:
        return f"apt-get install grafana={version} failed: {done.stderr.strip().splitlines()[-1:]}"
    return None if grafana_binary(os.environ) else "the grafana package installed no grafana binary"


def ensure(env=None) -> str | None:
    """Grafana installed (or already there): None. Otherwise one line saying why not, printed and
    noted in the run directory for `make up`'s welcome."""
    env = os.environ if env is None else env
    note = _run_dir(env) / NOTE
    if grafana_off(env):
        reason = "PIGGY_GRAFANA=off"
    elif grafana_binary(env):
        note.unlink(missing_ok=True)
        return None
    elif not shutil.which("apt-get"):
        reason = "no apt-get here to install Grafana with"
    else:
        reason = _install()
        if reason is None:
            note.unlink(missing_ok=True)
            return None
    print(f"==> grafana: not installed: {reason}; PiggyBank's board draws the dashboards instead", flush=True)
    note.parent.mkdir(parents=True, exist_ok=True)
    note.write_text(reason + "\n")
    return reason


def why_not(env) -> str:
    """Why this stack has no Grafana, in a few words."""
    if grafana_off(env):
        return "PIGGY_GRAFANA=off"
    note = _run_dir(env) / NOTE
    if note.exists() and note.read_text().strip():
        return note.read_text().strip()
    return "Grafana is not installed"
