"""Run the host's tools against the containers' file layout, without an engine.

In a private mount namespace (`unshare --mount`), /etc, /opt, /run, /usr and /var become overlays
whose changes land in a temporary directory: the containers' files are laid out at their container
paths (/etc/piggybank/..., /opt/piggybank/monit/bin/...), the images' users are added to
/etc/passwd and the compose service names to /etc/hosts (all 127.0.0.1). The host sees none of it.
The tools are the host's (Debian 12) builds, not the images' own (see README.md, "Docker").
"""

import os
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
                  timeout: float = 300, setup: tuple[str, ...] = (), processes: bool = False,
                  step_timeout: int = 90) -> dict[str, Result]:
    """Lay out `files` (container path -> host file or directory, or text), run the `setup` lines, then
    each command in turn (in a subshell; what it starts in the background keeps running).

    With `processes`, also a private network (only loopback: the containers' ports collide with
    nothing) and a private pid namespace: everything started ends with the last command.
    """
    reason = available()
    if reason:
        pytest.skip(reason)
    root = work / "root"
    for target, source in files.items():
        if not any(target.startswith(f"{top}/") for top in OVERLAID):
            raise ValueError(f"{target}: only paths under {', '.join(OVERLAID)} can be laid out")
        destination = root / target.lstrip("/")
        destination.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(source, Path) and source.is_dir():
            shutil.copytree(source, destination, symlinks=True, dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns("__pycache__", "node_modules"))
            for path in source.rglob("*"):  # with their owners, as the rendered files have them
                if (destination / path.relative_to(source)).exists():
                    info = path.lstat()
                    os.lchown(destination / path.relative_to(source), info.st_uid, info.st_gid)
        elif isinstance(source, Path):
            shutil.copy2(source, destination)
            os.lchown(destination, source.lstat().st_uid, source.lstat().st_gid)
        else:
            destination.write_text(source)
    lines = ["set -u", "cd /"]
    for directory in OVERLAID:
        layer = work / "overlay" / directory.strip("/")
        lines.append(f"mkdir -p {layer}/upper {layer}/work && mount -t overlay overlay "
                     f"-o lowerdir={directory},upperdir={layer}/upper,workdir={layer}/work {directory} || exit 90")
    for top in OVERLAID:  # into the overlays only, never onto the host's own directories
        if (root / top.strip("/")).is_dir():
            lines.append(f"cp -a {root / top.strip('/')}/. {top}/ || exit 91")
    for user, uid in IMAGE_USERS.items():  # the images' users, with the images' uids
        lines.append(f"sed -i '/^{user}:/d' /etc/passwd /etc/group")
        lines.append(f"echo '{user}:x:{uid}:{uid}::/nonexistent:/bin/false' >>/etc/passwd")
        lines.append(f"echo '{user}:x:{uid}:' >>/etc/group")
    lines.append(f"echo '127.0.0.1 {' '.join(hosts)}' >>/etc/hosts")
    if processes:
        lines.append("ip link set lo up || exit 92")
    lines += [f"{line} || exit 93" for line in setup]
    for index, (name, command) in enumerate(commands.items()):
        step = work / f"step-{index}.sh"
        step.write_text(command + "\n")
        # each step in its own shell, within a time limit; what it starts in the background stays
        lines.append(f"echo {shlex.quote('@@@ ' + name)}; timeout -k 5 {step_timeout} bash {step} </dev/null 2>&1; "
                     f"echo \"@@@ rc=$?\"")
    script = work / "layout.sh"
    script.write_text("\n".join(lines) + "\n")
    namespaces = ["--mount", "--propagation", "private"]
    if processes:
        namespaces += ["--net", "--pid", "--fork", "--kill-child", "--mount-proc"]
    done = subprocess.run(["unshare", *namespaces, "bash", str(script)], capture_output=True, text=True,
                          timeout=timeout)
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
