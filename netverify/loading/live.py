"""A live cluster as input: list the objects NetworkPolicy semantics depend on from an API
server and hand them to the manifest loader as documents, as if read from YAML.

The official `kubernetes` client (the optional extra `netverify[cluster]`) reads the
kubeconfig and speaks to the server: it knows every way a kubeconfig authenticates (tokens,
client certificates, exec plugins). Only `list` is ever sent, page by page (`limit` and the
`continue` token), and each page is kept as the server wrote it (`_preload_content=False`),
so an object's fields are exactly those `kubectl get -o yaml` shows. Items of a list carry no
`apiVersion` and `kind`; they are added. Every failure becomes an `InputError` that says what
to do about it, naming the RBAC verb and resource when the server forbids a list.
"""

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

from netverify.loading.inputerrors import input_error
from netverify.loading.yamlsource import YamlDocument
from netverify.model import InputError

PAGE_SIZE = 500
"""Objects asked for per list request."""
REQUEST_TIMEOUT_SECONDS = (10.0, 60.0)
"""Connect and read timeouts of one request."""
DEFAULT_KUBECONFIG = "~/.kube/config"
KUBECONFIG_VARIABLE = "KUBECONFIG"
NO_LINE = 0
"""The line of every node of an object read from a cluster: it was never written in a file."""

Lister = Callable[..., Any]
"""A list method of the kubernetes client, bound to its API and (for custom objects) kind."""


@dataclass(frozen=True)
class ClusterSource:
    """Which cluster to read: a kubeconfig context (None: the current one) and a kubeconfig
    file (None: `$KUBECONFIG`, else `~/.kube/config`)."""

    context: str | None = None
    kubeconfig: str | None = None


@dataclass(frozen=True)
class ListedKind:
    """One kind netverify lists, with what RBAC calls it."""

    kind: str
    group: str
    """The API group (`""`: the core group)."""
    version: str
    resource: str
    """The plural an RBAC rule names (`networkpolicies`)."""
    optional: bool = False
    """Whether a server may not serve it (the admin policy kinds): then it is skipped."""

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version


LISTED_KINDS: tuple[ListedKind, ...] = (
    ListedKind("Namespace", "", "v1", "namespaces"),
    ListedKind("Node", "", "v1", "nodes"),
    ListedKind("Pod", "", "v1", "pods"),
    ListedKind("ReplicationController", "", "v1", "replicationcontrollers"),
    ListedKind("Service", "", "v1", "services"),
    ListedKind("EndpointSlice", "discovery.k8s.io", "v1", "endpointslices"),
    ListedKind("Deployment", "apps", "v1", "deployments"),
    ListedKind("StatefulSet", "apps", "v1", "statefulsets"),
    ListedKind("DaemonSet", "apps", "v1", "daemonsets"),
    ListedKind("ReplicaSet", "apps", "v1", "replicasets"),
    ListedKind("Job", "batch", "v1", "jobs"),
    ListedKind("CronJob", "batch", "v1", "cronjobs"),
    ListedKind("NetworkPolicy", "networking.k8s.io", "v1", "networkpolicies"),
    ListedKind(
        "ClusterNetworkPolicy",
        "policy.networking.k8s.io",
        "v1alpha2",
        "clusternetworkpolicies",
        True,
    ),
    ListedKind(
        "AdminNetworkPolicy", "policy.networking.k8s.io", "v1alpha1", "adminnetworkpolicies", True
    ),
    ListedKind(
        "BaselineAdminNetworkPolicy",
        "policy.networking.k8s.io",
        "v1alpha1",
        "baselineadminnetworkpolicies",
        True,
    ),
)
"""What is read, in this order (`docs/cluster.md` lists the ClusterRole it needs)."""

_TYPED_LISTERS: dict[str, tuple[str, str]] = {
    "namespaces": ("CoreV1Api", "list_namespace"),
    "nodes": ("CoreV1Api", "list_node"),
    "pods": ("CoreV1Api", "list_pod_for_all_namespaces"),
    "replicationcontrollers": ("CoreV1Api", "list_replication_controller_for_all_namespaces"),
    "services": ("CoreV1Api", "list_service_for_all_namespaces"),
    "endpointslices": ("DiscoveryV1Api", "list_endpoint_slice_for_all_namespaces"),
    "deployments": ("AppsV1Api", "list_deployment_for_all_namespaces"),
    "statefulsets": ("AppsV1Api", "list_stateful_set_for_all_namespaces"),
    "daemonsets": ("AppsV1Api", "list_daemon_set_for_all_namespaces"),
    "replicasets": ("AppsV1Api", "list_replica_set_for_all_namespaces"),
    "jobs": ("BatchV1Api", "list_job_for_all_namespaces"),
    "cronjobs": ("BatchV1Api", "list_cron_job_for_all_namespaces"),
    "networkpolicies": ("NetworkingV1Api", "list_network_policy_for_all_namespaces"),
}
"""The client's API class and method for each built-in resource; the others are listed as
custom objects."""

_FINISHED_PHASES = frozenset({"Succeeded", "Failed"})
"""Pods in these phases have stopped: they hold no address and carry no traffic."""


@dataclass(frozen=True)
class ClusterRead:
    """What was read from one cluster."""

    context: str
    """The kubeconfig context read (the current one's name when none was named)."""
    objects: dict[ListedKind, list[dict[str, Any]]]
    """The objects of each kind served, in the server's order, with apiVersion and kind."""
    not_served: tuple[ListedKind, ...]
    """Optional kinds the server does not serve (skipped)."""

    @property
    def label(self) -> str:
        return f"cluster:{self.context}"

    def documents(self) -> list[YamlDocument]:
        """Each object as a loader document named `cluster:CONTEXT/KIND/NAMESPACE/NAME`."""
        return [
            YamlDocument(item, f"{self.label}/{_object_path(item)}", 0, {(): NO_LINE})
            for items in self.objects.values()
            for item in items
        ]


def _object_path(item: dict[str, Any]) -> str:
    metadata = item.get("metadata") or {}
    parts = (item.get("kind"), metadata.get("namespace"), metadata.get("name"))
    return "/".join(str(part) for part in parts if part)


def read_cluster(source: ClusterSource) -> ClusterRead:
    """List every kind of `LISTED_KINDS` from the cluster of `source`; raises `InputError`
    when the kubeconfig, the context, the server or its answer forbids it."""
    client, context = _connect(source)
    from kubernetes.client.exceptions import ApiException
    from urllib3.exceptions import HTTPError

    objects: dict[ListedKind, list[dict[str, Any]]] = {}
    not_served: list[ListedKind] = []
    with client:
        for listed in LISTED_KINDS:
            try:
                objects[listed] = [
                    _as_manifest(item, listed)
                    for item in _pages(_lister(client, listed))
                    if _is_kept(item)
                ]
            except ApiException as refused:
                if refused.status == 404 and listed.optional:
                    not_served.append(listed)
                    continue
                raise _refusal(context, listed, refused.status, refused.reason) from None
            except (HTTPError, OSError) as unreachable:
                host = client.configuration.host
                raise input_error(
                    f"cluster:{context}: cannot reach the API server at {host} "
                    f"({_root_cause(unreachable)})"
                ) from None
            except ValueError as garbled:
                raise input_error(
                    f"cluster:{context}: the API server's list of {listed.resource} is not "
                    f"JSON: {garbled}"
                ) from None
    return ClusterRead(context=context, objects=objects, not_served=tuple(not_served))


def _root_cause(problem: BaseException) -> str:
    """The operating system's words for a failed connection (`Connection refused`), found
    under urllib3's retry and connection errors; else the error as it reads."""
    seen: BaseException | None = problem
    while seen is not None:
        if isinstance(seen, OSError) and seen.strerror:
            return seen.strerror
        reason = getattr(seen, "reason", None)
        seen = reason if isinstance(reason, BaseException) else seen.__cause__ or seen.__context__
    return str(problem)


def resolve_context(source: ClusterSource) -> ClusterSource:
    """`source` naming its context: the kubeconfig's current one when it names none."""
    return ClusterSource(
        context=_connect(source, connecting=False)[1], kubeconfig=source.kubeconfig
    )


def _connect(source: ClusterSource, *, connecting: bool = True) -> tuple[Any, str]:
    """An API client for the context `source` names (None unless `connecting`), and that
    context's name."""
    try:
        from kubernetes import config
        from kubernetes.config import ConfigException
    except ImportError:
        raise input_error(
            "reading a live cluster needs the kubernetes package: pip install 'netverify[cluster]'"
        ) from None
    config_file = _kubeconfig_file(source)
    try:
        context = _context_name(config, config_file, source.context)
        client = (
            config.new_client_from_config(
                config_file=config_file, context=context, persist_config=False
            )
            if connecting
            else None
        )
    except (ConfigException, OSError, ValueError) as invalid:
        raise input_error(f"kubeconfig {config_file}: {invalid}") from None
    return client, context


def _context_name(config: Any, config_file: str, named: str | None) -> str:
    """The context to read: `named`, which the kubeconfig must have, else its current one."""
    from kubernetes.config import ConfigException

    try:
        contexts, current = config.list_kube_config_contexts(config_file=config_file)
    except ConfigException as invalid:
        # NOTE: the client refuses to list the contexts of a kubeconfig without a current
        # one; it checks a named context itself when it connects.
        if named is not None:
            return named
        if "current-context" in str(invalid):
            raise input_error(
                f"kubeconfig {config_file} has no current context: pass --context NAME"
            ) from None
        raise
    names = sorted(context["name"] for context in contexts or ())
    if named is None:
        return str(current["name"])
    if named not in names:
        raise input_error(
            f"kubeconfig {config_file} has no context named {named!r}"
            + (f" (it has: {', '.join(names)})" if names else " (it has none)")
        )
    return named


def _kubeconfig_file(source: ClusterSource) -> str:
    """The kubeconfig to read: as given, `$KUBECONFIG` (a list of files, merged), or the
    default; raises `InputError` when none of its files exists."""
    config_file = source.kubeconfig or os.environ.get(KUBECONFIG_VARIABLE) or DEFAULT_KUBECONFIG
    files = [os.path.expanduser(part) for part in config_file.split(os.pathsep) if part]
    if not any(os.path.isfile(file) for file in files):
        raise input_error(
            f"no kubeconfig: {config_file} does not exist "
            f"(pass --kubeconfig PATH or set {KUBECONFIG_VARIABLE})"
        )
    return os.pathsep.join(files)


def _lister(client: Any, listed: ListedKind) -> Lister:
    from kubernetes import client as api

    typed = _TYPED_LISTERS.get(listed.resource)
    if typed is not None:
        api_class, method = typed
        return getattr(getattr(api, api_class)(client), method)  # type: ignore[no-any-return]
    return partial(
        api.CustomObjectsApi(client).list_cluster_custom_object,
        listed.group,
        listed.version,
        listed.resource,
    )


def _pages(list_page: Lister) -> Iterator[dict[str, Any]]:
    """Every item of a list, following `continue` tokens from page to page."""
    token: str | None = None
    while True:
        options: dict[str, Any] = {
            "limit": PAGE_SIZE,
            "_preload_content": False,
            "_request_timeout": REQUEST_TIMEOUT_SECONDS,
        }
        if token:
            options["_continue"] = token
        page = json.loads(list_page(**options).data)
        yield from page.get("items") or ()
        token = (page.get("metadata") or {}).get("continue")
        if not token:
            return


def _is_kept(item: dict[str, Any]) -> bool:
    """Whether an object stands for pods of its own: not a stopped pod, and not a workload
    another one controls (a Deployment's ReplicaSets, a CronJob's Jobs repeat its
    template)."""
    if (item.get("status") or {}).get("phase") in _FINISHED_PHASES:
        return False
    owners = (item.get("metadata") or {}).get("ownerReferences") or ()
    return (item.get("spec") or {}).get("template") is None or not any(
        owner.get("controller") for owner in owners
    )


def _as_manifest(item: dict[str, Any], listed: ListedKind) -> dict[str, Any]:
    """A list item as a manifest: apiVersion and kind first, without `managedFields` (the
    server's bookkeeping of who wrote which field)."""
    metadata = {
        key: value for key, value in (item.get("metadata") or {}).items() if key != "managedFields"
    }
    rest = {key: value for key, value in item.items() if key not in ("apiVersion", "kind")}
    return {"apiVersion": listed.api_version, "kind": listed.kind, **rest, "metadata": metadata}


def _refusal(
    context: str, listed: ListedKind, status: int | None, reason: str | None
) -> InputError:
    """An API error as something to do: fix credentials, grant a verb, or upgrade."""
    where = f"cluster:{context}"
    group = f"the {listed.group} API group" if listed.group else "the core API group"
    if status == 401:
        return input_error(
            f"{where}: credentials rejected (401 Unauthorized) listing {listed.resource}: "
            "the kubeconfig's user has no valid token or certificate (log in again)"
        )
    if status == 403:
        return input_error(
            f"{where}: forbidden: cannot list {listed.resource} in {group}: grant `list` on "
            f'resource "{listed.resource}" (apiGroups: ["{listed.group}"]) to this user '
            "(docs/cluster.md has the whole ClusterRole)"
        )
    if status == 404:
        return input_error(
            f"{where}: the API server does not serve {listed.resource} "
            f"({listed.api_version}): is this a Kubernetes API server?"
        )
    return input_error(
        f"{where}: the API server refused to list {listed.resource}: {status} {reason or ''}"
    )
