"""A Kubernetes API server that replays recorded list responses, on 127.0.0.1 at a random
port, in a thread: enough for the kubernetes client to list with paging, and to be refused.

Each token stands for one user: `TOKEN` may list everything, `LIMITED_TOKEN` may not list
NetworkPolicies (403), any other token is rejected (401). Paths not recorded answer 404, as a
server answers for a kind it does not serve.
"""

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

TOKEN = "reader-token"
LIMITED_TOKEN = "limited-token"
FORBIDDEN_FOR_LIMITED = "/apis/networking.k8s.io/v1/networkpolicies"


def _meta(namespace: str | None, name: str, **extra: Any) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name, "uid": f"uid-{name}", "resourceVersion": "7"}
    if namespace is not None:
        metadata["namespace"] = namespace
    metadata["managedFields"] = [{"manager": "kubectl", "operation": "Update"}]
    return {**metadata, **extra}


def _pod(namespace: str, name: str, app: str, ip: str, phase: str = "Running") -> dict[str, Any]:
    return {
        "metadata": _meta(namespace, name, labels={"app": app}),
        "spec": {
            "nodeName": "node-1",
            "containers": [{"name": app, "ports": [{"containerPort": 8080, "name": "http"}]}],
        },
        "status": {"phase": phase, "podIP": ip, "podIPs": [{"ip": ip}]},
    }


def _template(app: str) -> dict[str, Any]:
    return {
        "metadata": {"labels": {"app": app}},
        "spec": {"containers": [{"name": app, "ports": [{"containerPort": 9090}]}]},
    }


def _list(kind: str, items: list[dict[str, Any]], token: str = "") -> dict[str, Any]:
    metadata = {"resourceVersion": "42", **({"continue": token} if token else {})}
    return {"kind": kind, "apiVersion": "v1", "metadata": metadata, "items": items}


PAGES: dict[str, list[dict[str, Any]]] = {
    "/api/v1/namespaces": [
        _list(
            "NamespaceList",
            [
                {"metadata": _meta(None, name, labels={"kubernetes.io/metadata.name": name})}
                for name in ("default", "prod")
            ],
        )
    ],
    "/api/v1/nodes": [
        _list(
            "NodeList", [{"metadata": _meta(None, "node-1"), "spec": {"podCIDR": "10.244.0.0/24"}}]
        )
    ],
    # Two pages: the client must follow the continue token.
    "/api/v1/pods": [
        _list(
            "PodList",
            [
                _pod("prod", "web", "web", "10.244.0.10"),
                _pod("prod", "batch-done", "batch", "10.244.0.12", phase="Succeeded"),
            ],
            token="page-2",
        ),
        _list("PodList", [_pod("prod", "db", "db", "10.244.0.11")]),
    ],
    "/api/v1/replicationcontrollers": [_list("ReplicationControllerList", [])],
    # `db` selects prod/db; `legacy` has no selector: its EndpointSlice lists prod/web by
    # targetRef and an address outside the cluster (not modelled).
    "/api/v1/services": [
        _list(
            "ServiceList",
            [
                {
                    "metadata": _meta("prod", "db"),
                    "spec": {
                        "selector": {"app": "db"},
                        "clusterIP": "10.96.0.20",
                        "clusterIPs": ["10.96.0.20"],
                        "ports": [{"port": 80, "targetPort": "http", "protocol": "TCP"}],
                    },
                    "status": {"loadBalancer": {}},
                },
                {
                    "metadata": _meta("prod", "legacy"),
                    "spec": {"ports": [{"name": "http", "port": 80, "protocol": "TCP"}]},
                },
            ],
        )
    ],
    "/apis/discovery.k8s.io/v1/endpointslices": [
        _list(
            "EndpointSliceList",
            [
                {
                    "metadata": _meta(
                        "prod",
                        "legacy-x7k2p",
                        labels={"kubernetes.io/service-name": "legacy"},
                        ownerReferences=[{"kind": "Service", "name": "legacy", "controller": True}],
                    ),
                    "addressType": "IPv4",
                    "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
                    "endpoints": [
                        {
                            "addresses": ["10.244.0.10"],
                            "conditions": {"ready": True},
                            "targetRef": {"kind": "Pod", "namespace": "prod", "name": "web"},
                        },
                        {"addresses": ["192.0.2.7"], "conditions": {"ready": True}},
                    ],
                }
            ],
        )
    ],
    "/apis/apps/v1/deployments": [
        _list(
            "DeploymentList",
            [{"metadata": _meta("prod", "api"), "spec": {"template": _template("api")}}],
        )
    ],
    "/apis/apps/v1/replicasets": [
        _list(
            "ReplicaSetList",
            [
                {
                    "metadata": _meta(
                        "prod",
                        "api-5d8f",
                        ownerReferences=[{"kind": "Deployment", "name": "api", "controller": True}],
                    ),
                    "spec": {"template": _template("api")},
                }
            ],
        )
    ],
    "/apis/apps/v1/statefulsets": [_list("StatefulSetList", [])],
    "/apis/apps/v1/daemonsets": [_list("DaemonSetList", [])],
    "/apis/batch/v1/jobs": [_list("JobList", [])],
    "/apis/batch/v1/cronjobs": [_list("CronJobList", [])],
    "/apis/networking.k8s.io/v1/networkpolicies": [
        _list(
            "NetworkPolicyList",
            [
                {
                    "metadata": _meta("prod", "db-from-web"),
                    "spec": {
                        "podSelector": {"matchLabels": {"app": "db"}},
                        "policyTypes": ["Ingress"],
                        "ingress": [
                            {
                                "from": [{"podSelector": {"matchLabels": {"app": "web"}}}],
                                "ports": [{"protocol": "TCP", "port": 8080}],
                            }
                        ],
                    },
                }
            ],
        )
    ],
    # Served in v1alpha1 only: ClusterNetworkPolicy (v1alpha2) answers 404.
    "/apis/policy.networking.k8s.io/v1alpha1/adminnetworkpolicies": [
        _list("AdminNetworkPolicyList", [])
    ],
    "/apis/policy.networking.k8s.io/v1alpha1/baselineadminnetworkpolicies": [
        _list("BaselineAdminNetworkPolicyList", [])
    ],
}


def _status(code: int, reason: str, message: str) -> dict[str, Any]:
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }


class _Handler(BaseHTTPRequestHandler):
    pages: dict[str, list[dict[str, Any]]] = PAGES
    requests: list[tuple[str, str]] = []

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        self.requests.append((url.path, url.query))
        token = self.headers.get("Authorization", "").removeprefix("Bearer ")
        if token not in (TOKEN, LIMITED_TOKEN):
            self._send(401, _status(401, "Unauthorized", "Unauthorized"))
        elif token == LIMITED_TOKEN and url.path == FORBIDDEN_FOR_LIMITED:
            self._send(403, _status(403, "Forbidden", 'networkpolicies is forbidden: User "x"'))
        elif url.path not in self.pages:
            self._send(404, _status(404, "NotFound", "the server could not find the resource"))
        else:
            continued = query.get("continue", [""])[0]
            index = int(continued.removeprefix("page-")) - 1 if continued else 0
            assert query.get("limit"), "every list is paged"
            self._send(200, self.pages[url.path][index])

    def _send(self, code: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the tests read `requests` instead."""


@dataclass(frozen=True)
class FakeCluster:
    url: str
    kubeconfig: Path
    requests: list[tuple[str, str]]


def _closed_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def write_kubeconfig(path: Path, url: str) -> None:
    contexts = {
        "test": ("fake", TOKEN),
        "limited": ("fake", LIMITED_TOKEN),
        "stranger": ("fake", "wrong-token"),
        "gone": ("gone", TOKEN),
    }
    servers = {"fake": url, "gone": f"http://127.0.0.1:{_closed_port()}"}
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": name, "cluster": {"server": server}} for name, server in servers.items()
        ],
        "users": [
            {"name": name, "user": {"token": token}} for name, (_, token) in contexts.items()
        ],
        "contexts": [
            {"name": name, "context": {"cluster": cluster, "user": name}}
            for name, (cluster, _) in contexts.items()
        ],
        "current-context": "test",
    }
    path.write_text(json.dumps(config), encoding="utf-8")


@contextmanager
def fake_cluster(folder: Path) -> Iterator[FakeCluster]:
    requests: list[tuple[str, str]] = []
    handler = type("Handler", (_Handler,), {"requests": requests})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        kubeconfig = folder / "kubeconfig"
        write_kubeconfig(kubeconfig, url)
        yield FakeCluster(url=url, kubeconfig=kubeconfig, requests=requests)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
