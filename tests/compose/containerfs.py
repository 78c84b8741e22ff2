"""Run the host's tools against the containers' file layout, without an engine.

In a private mount namespace (`unshare --mount`), /etc, /opt, /run, /usr and /var become overlays
whose changes land in a temporary directory: the containers' files are laid out at their container
paths (/etc/piggybank/..., /opt/piggybank/monit/bin/...), the images' users are added to
/etc/passwd and the compose service names to /etc/hosts (all 127.0.0.1). The host sees none of it.
The tools are the host's (Debian 12) builds, not the images' own (see README.md, "Docker").
"""

import shlex
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

OVERLAID = ("/etc", "/opt", "/run", "/usr", "/var")
IMAGE_USERS = {"piggy": 10001, "mysql": 999, "nginx": 101, "exporter": 10104, "grafana": 472}


@dataclass
class Result:
    returncode: int
    output: str


def available() -> str | None:
    """None if mount namespaces with overlays work here, else why not."""
    if not shutil.which("unshare"):
        return "unshare (util-linux) is not installed"
    probe = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c",
                            "d=$(mktemp -d) && mkdir $d/u $d/w && mount -t overlay overlay "
                            "-o lowerdir=/etc,upperdir=$d/u,workdir=$d/w /etc; r=$?; rm -rf $d; exit $r"],
                           capture_output=True, text=True)
    if probe.returncode != 0:
        return f"no private mount namespace with overlayfs here (needs root): {probe.stderr.strip()}"
    return None


def run_in_layout(work: Path, files: dict[str, Path | str], commands: dict[str, str], hosts: list[str],
                  timeout: float = 120) -> dict[str, Result]:
    """Lay out `files` (container path -> host file or directory, or text) and run each shell command."""
    reason = available()
    if reason:
        pytest.skip(reason)
    root = work / "root"
    for target, source in files.items():
        destination = root / target.lstrip("/")
        destination.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(source, Path) and source.is_dir():
            shutil.copytree(source, destination, symlinks=True, dirs_exist_ok=True)
        elif isinstance(source, Path):
            shutil.copy2(source, destination)
        else:
            destination.write_text(source)
    lines = ["set -u"]
    for directory in OVERLAID:
        layer = work / "overlay" / directory.strip("/")
        lines.append(f"mkdir -p {layer}/upper {layer}/work && mount -t overlay overlay "
                     f"-o lowerdir={directory},upperdir={layer}/upper,workdir={layer}/work {directory} || exit 90")
    lines.append(f"cp -a {root}/. / || exit 91")
    for user, uid in IMAGE_USERS.items():
        lines.append(f"getent passwd {user} >/dev/null || echo '{user}:x:{uid}:{uid}::/nonexistent:/bin/false' "
                     f">>/etc/passwd")
        lines.append(f"getent group {user} >/dev/null || echo '{user}:x:{uid}:' >>/etc/group")
    lines.append(f"echo '127.0.0.1 {' '.join(hosts)}' >>/etc/hosts")
    for name, command in commands.items():
        lines.append(f"echo '@@@ {name}'; ( {command} ) 2>&1; echo \"@@@ rc=$?\"")
    script = work / "layout.sh"
    script.write_text("\n".join(lines) + "\n")
    done = subprocess.run(["unshare", "--mount", "--propagation", "private", "bash", str(script)],
                          capture_output=True, text=True, timeout=timeout)
    if done.returncode >= 90:
        pytest.fail(f"could not lay out the containers' files (exit {done.returncode}):\n{done.stderr}")
    results, current, output = {}, None, []
    for line in done.stdout.splitlines():
        if line.startswith("@@@ rc="):
            results[current] = Result(int(line.removeprefix("@@@ rc=")), "\n".join(output))
            current, output = None, []
        elif line.startswith("@@@ "):
            current = line.removeprefix("@@@ ")
        elif current:
            output.append(line)
    missing = set(commands) - set(results)
    if missing:
        pytest.fail(f"no result for {missing}:\n{done.stdout}\n{done.stderr}")
    return results


def quote(*args) -> str:
    return " ".join(shlex.quote(str(a)) for a in args)
