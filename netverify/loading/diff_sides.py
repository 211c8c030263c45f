"""The two sides of a diff: BASE and HEAD as two manifest paths, the same paths read at a
git revision (BASE) and in the work tree (HEAD), or one path (BASE) and a live cluster
(HEAD: what the cluster runs, against what the manifests say)."""

from collections.abc import Sequence
from dataclasses import dataclass

from netverify.loading.gitrev import paths_at_revision
from netverify.loading.live import ClusterSource, resolve_context
from netverify.loading.manifests import load_manifests
from netverify.loading.parsecache import ParseCache
from netverify.model import Cluster, Diagnostic, InputError, LoadedCluster, Severity


@dataclass(frozen=True)
class DiffSides:
    """BASE and HEAD, loaded, with the names the report gives them."""

    base: LoadedCluster
    head: LoadedCluster
    labels: tuple[str, str]
    """BASE's and HEAD's names: the two paths, or the revision and `work tree`."""


def load_diff_sides(
    paths: Sequence[str],
    base_ref: str | None,
    *,
    strict: bool,
    namespace: str | None = None,
    head_cluster: ClusterSource | None = None,
) -> DiffSides:
    """Both sides; the files they share are parsed once. Raises `InputError` for anything but
    two paths without `base_ref` (one path with `head_cluster`), and for what loading or git
    reject. `namespace` is `load_manifests`'."""
    parse_cache = ParseCache()
    if head_cluster is not None:
        if base_ref is not None or len(paths) != 1:
            raise _usage(
                "diff with a live cluster takes BASE (one path) --cluster: HEAD is the cluster"
            )
        named = resolve_context(head_cluster)
        base = load_manifests(paths, strict=strict)
        head = load_manifests([], strict=strict, clusters=[named])
        return DiffSides(base, head, (paths[0], f"cluster:{named.context}"))
    if base_ref is not None:
        with paths_at_revision(base_ref, paths) as base_paths:
            base = _revision_side(base_paths, strict, parse_cache, namespace)
        head = load_manifests(paths, strict=strict, parse_cache=parse_cache, namespace=namespace)
        return DiffSides(base, head, (base_ref, "work tree"))
    if len(paths) != 2:
        raise _usage("diff takes BASE HEAD (two paths), or --base-ref REV PATH...")
    base = load_manifests([paths[0]], strict=strict, parse_cache=parse_cache, namespace=namespace)
    head = load_manifests([paths[1]], strict=strict, parse_cache=parse_cache, namespace=namespace)
    return DiffSides(base, head, (paths[0], paths[1]))


def _usage(message: str) -> InputError:
    return InputError([Diagnostic(severity=Severity.ERROR, message=message)])


def _revision_side(
    paths: list[str], strict: bool, parse_cache: ParseCache, namespace: str | None
) -> LoadedCluster:
    """A side read at a revision; paths that did not exist there make an empty side."""
    if not paths:
        return LoadedCluster(cluster=Cluster())
    return load_manifests(
        paths,
        strict=strict,
        require_objects=False,
        parse_cache=parse_cache,
        namespace=namespace,
    )
