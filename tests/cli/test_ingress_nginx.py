"""Reduced reproductions from ingress-nginx's static deploy.yaml with its chart's controller
NetworkPolicy (controller.networkPolicy.enabled), and that policy once metrics are enabled."""

from pathlib import Path

import pytest

from .test_cli import EXIT_HOLDS, run

CONTROLLER = """\
apiVersion: v1
kind: Namespace
metadata: {name: ingress-nginx}
---
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: v1
kind: Pod
metadata:
  name: ingress-nginx-controller
  namespace: ingress-nginx
  labels: {app.kubernetes.io/component: controller}
spec: {containers: [{name: controller, image: x, ports: [{containerPort: 80, name: http}]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop, labels: {app: web}}
spec: {containers: [{name: web, image: x}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: ingress-nginx-controller, namespace: ingress-nginx}
spec:
  podSelector:
    matchLabels: {app.kubernetes.io/component: controller}
  policyTypes: [Ingress, Egress]
  ingress:
    - ports:
        - {protocol: TCP, port: 80}
  egress:
    - {}
"""


def test_a_diff_counts_external_addresses_in_no_namespace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Opening the metrics port to every source is one finding, a pod of shop and external
    addresses; whichever is the witness, the other is not counted as a namespace."""
    monkeypatch.chdir(tmp_path)
    Path("base.yaml").write_text(CONTROLLER)
    opened = "        - {protocol: TCP, port: 80}\n        - {protocol: TCP, port: 10254}\n"
    Path("head.yaml").write_text(
        CONTROLLER.replace("        - {protocol: TCP, port: 80}\n", opened)
    )
    result = run("diff", "base.yaml", "head.yaml")
    assert result.exit_code == EXIT_HOLDS, result.output
    (also,) = [line.strip() for line in result.stdout.splitlines() if "also from" in line]
    assert also in {
        "also from 1 more source group of external addresses (1)",
        "also from 1 more source group in 1 namespace: shop (1)",
    }
