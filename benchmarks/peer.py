"""The peer comparison: network-config-analyzer (NCA) asked the same dev -> prod isolation
question as netverify's isolation-only `prove`, timed as a process.
"""

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import yaml

NCA_FORBID_FILE = "nca-forbid-dev-to-prod.yaml"


def find_nca() -> list[str] | None:
    """How to run network-config-analyzer: `$NCA` (a command), `nca` on PATH, or the module
    in this interpreter; None when it is not installed."""
    if command := os.environ.get("NCA"):
        return command.split()
    if found := shutil.which("nca"):
        return [found]
    try:
        import nca  # type: ignore[import-not-found]  # noqa: F401
    except ImportError:
        return None
    return [sys.executable, "-m", "nca"]


def nca_dev_to_prod_isolation(
    nca: list[str], folder: Path, limit: float
) -> tuple[float | None, str]:
    """Ask network-config-analyzer whether any pod of an env=dev namespace can reach any pod of
    an env=prod namespace, on any port: its `--forbids` query, with one forbidding policy per
    prod namespace (select every pod, admit env=dev namespaces), against the cluster's
    policies, pods, workloads and namespaces. NCA reasons over the existing pods (the
    counterpart of netverify's `pods: existing`). Returns (seconds or None when it did not
    finish in `limit`, verdict)."""
    namespaces = yaml.safe_load_all((folder / "namespaces.yaml").read_text(encoding="utf-8"))
    forbidding = [
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": "forbid-dev", "namespace": ns["metadata"]["name"]},
            "spec": {
                "podSelector": {},
                "policyTypes": ["Ingress"],
                "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"env": "dev"}}}]}],
            },
        }
        for ns in namespaces
        if ns["metadata"].get("labels", {}).get("env") == "prod"
    ]
    forbid_file = folder / NCA_FORBID_FILE
    forbid_file.write_text(yaml.safe_dump_all(forbidding), encoding="utf-8")
    command = [
        *nca,
        "--forbids",
        str(forbid_file),
        "--base_np_list",
        "policies.yaml",
        "--pod_list",
        "pods.yaml",
        "--pod_list",
        "workloads.yaml",
        "--ns_list",
        "namespaces.yaml",
    ]
    start = time.perf_counter()
    try:
        done = subprocess.run(
            command, cwd=folder, capture_output=True, text=True, timeout=limit, check=False
        )
    except subprocess.TimeoutExpired:
        return None, f"did not finish in {limit:g} s"
    seconds = time.perf_counter() - start
    output = done.stdout + done.stderr
    if "does not forbid" in output:
        return seconds, "violated"
    if "forbids connections" in output:
        return seconds, "holds"
    return seconds, f"no answer (exit {done.returncode})"
