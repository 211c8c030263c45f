"""A command that ran worker processes leaves no process behind: its workers are joined, and
multiprocessing's resource tracker, which a spawned pool starts and which would otherwise
end only after the command, is ended and reaped before it exits. Workers are forked on
Linux (no tracker then); spawned where they cannot be (`_can_fork`), as this test makes
them too."""

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


SPAWNING = (
    "import runpy, sys; import netverify.engine.workers as workers; "
    "workers._can_fork = lambda: False; sys.argv[0] = 'netverify'; "
    "runpy.run_module('netverify', run_name='__main__')"
)
"""`python -m netverify` with its workers spawned, as where they cannot be forked."""


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)")
@pytest.mark.parametrize(
    ("start", "seen"),
    [(["-m", "netverify"], 2), (["-c", SPAWNING], 3)],
    ids=["forked", "spawned"],
)
def test_prove_with_worker_processes_leaves_no_process_behind(
    tmp_path: Path, start: list[str], seen: int
) -> None:
    """Seen at once: the command and its worker, and (spawned) the resource tracker."""
    for manifest in (REPO / "examples" / "devprod").glob("*.yaml"):
        (tmp_path / manifest.name).write_text(manifest.read_text())
    (tmp_path / "spec.yaml").write_text(TWO_VIOLATED)
    command = [sys.executable, *start, "prove", "--all", "-j2", "spec.yaml"]
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
    assert most >= seen, "the command and its worker processes were seen at once"
    assert not left, f"left behind: processes {left}"
