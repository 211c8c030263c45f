"""A command that ran worker processes leaves no process behind: its workers are joined, and
multiprocessing's resource tracker, which a `spawn` pool starts and which would otherwise end
only after the command, is ended and reaped before it exits."""

import subprocess
import sys
import time
from pathlib import Path

import pytest

from .test_cli import EXIT_VIOLATED

REPO = Path(__file__).resolve().parents[2]
TWO_VIOLATED = """\
manifests: [.]
invariants:
  - name: dev-never-reaches-prod
    forbid:
      from: {namespace: dev}
      to: {namespace: prod}
  - name: monitoring-never-reaches-db
    forbid:
      from: {namespace: monitoring}
      to: {pod: prod/db}
"""
"""Two violated invariants of devprod: `prove --all -j2` searches their findings in two
worker processes."""


def _group(pgid: int) -> list[int]:
    """The processes of process group `pgid`, whatever their state (zombies too), as
    /proc lists them."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # ended meanwhile
            continue
        # NOTE: `pid (comm) state ppid pgrp ...`, and comm may hold spaces and parentheses
        if int(stat.rsplit(")", 1)[1].split()[2]) == pgid:
            members.append(int(entry.name))
    return members


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)")
def test_prove_with_worker_processes_leaves_no_process_behind(tmp_path: Path) -> None:
    for manifest in (REPO / "examples" / "devprod").glob("*.yaml"):
        (tmp_path / manifest.name).write_text(manifest.read_text())
    (tmp_path / "spec.yaml").write_text(TWO_VIOLATED)
    command = [sys.executable, "-m", "netverify", "prove", "--all", "-j2", "spec.yaml"]
    process = subprocess.Popen(
        command,
        cwd=tmp_path,
        start_new_session=True,  # its own process group, whose id is its pid
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    most = 0
    deadline = time.monotonic() + 120
    while process.poll() is None:
        most = max(most, len(_group(process.pid)))
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail("prove --all -j2 did not end in 120 s")
        time.sleep(0.02)
    left = _group(process.pid)
    assert process.returncode == EXIT_VIOLATED
    assert most >= 3, "the command and its two workers were seen at once"
    assert not left, f"left behind: processes {left}"
