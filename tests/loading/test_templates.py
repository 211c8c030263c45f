"""A template given as manifests fails with one error that says to render it first: a Helm
chart's folder (sock-shop's deploy/kubernetes/helm-chart gave 30 YAML errors, the first
"Chart.yaml:1: kind: missing required field"), or a file with Go template actions where it
fails (network-policy-api's conformance manifests.yaml, `containerPort: {{ index
.HostNetworkPorts 0 }}`: "expected an integer, got a mapping")."""

from pathlib import Path

import pytest

from netverify.loading import load_manifests
from netverify.model import InputError

CHART = "apiVersion: v2\nname: shop\nversion: 0.1.0\n"
TEMPLATE = """\
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  ports:
  - port: 80
    targetPort: {{ .Values.web.port }}
"""
ALERTS_WITH_AN_ERROR = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: alerts
data:
  rule: "{{ $labels.instance }} is down"
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: np
spec:
  podSelector: {}
  policyTypes: [Sideways]
"""


def _errors(*paths: Path) -> list[str]:
    with pytest.raises(InputError) as raised:
        load_manifests([str(path) for path in paths])
    return [str(diagnostic) for diagnostic in raised.value.diagnostics]


def test_a_helm_chart_folder_is_one_error_at_its_chart_file(tmp_path: Path) -> None:
    chart = tmp_path / "shop"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text(CHART)
    (chart / "values.yaml").write_text("web: {port: 8080}\n")
    (chart / "templates" / "web.yaml").write_text(TEMPLATE)
    (chart / "templates" / "other.yaml").write_text(TEMPLATE.replace("web", "other"))
    (errors,) = [_errors(tmp_path)]
    assert len(errors) == 1, errors
    assert f"{chart}/Chart.yaml:1" in errors[0]
    assert "is a Helm chart, not rendered manifests: render it first" in errors[0]
    assert f"helm template {chart} | netverify validate -" in errors[0]


def test_a_chart_s_templates_folder_is_the_chart_s_error(tmp_path: Path) -> None:
    """ingress-nginx's charts/ingress-nginx/templates given: one error naming the chart, not
    one per template."""
    chart = tmp_path / "shop"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text(CHART)
    (chart / "templates" / "web.yaml").write_text(TEMPLATE)
    (chart / "templates" / "other.yaml").write_text(TEMPLATE.replace("web", "other"))
    (error,) = _errors(chart / "templates")
    assert f"{chart}/Chart.yaml:1" in error and "is a Helm chart" in error


def test_a_template_file_is_one_error_at_its_first_action(tmp_path: Path) -> None:
    (tmp_path / "web.yaml").write_text(TEMPLATE)
    (error,) = _errors(tmp_path / "web.yaml")
    assert "web.yaml:8" in error
    assert "unrendered template: '{{ .Values.web.port }}' is a Go template action" in error


def test_template_text_inside_a_string_does_not_hide_real_errors(tmp_path: Path) -> None:
    (tmp_path / "alerts.yaml").write_text(ALERTS_WITH_AN_ERROR)
    errors = _errors(tmp_path / "alerts.yaml")
    assert not any("unrendered template" in error for error in errors), errors
    assert any("Sideways" in error for error in errors), errors
