"""Synthetic clusters with known verdicts, for tests and benchmarks (`netverify generate`).

A generated cluster is plain Kubernetes YAML (namespaces, Deployments/StatefulSets, running
Pods, NetworkPolicies) plus a spec whose invariants hold or are violated by construction;
without `leak`, no env=dev pod can reach an env=prod pod, and `leak` plants one rule that
breaks it.
"""

from netverify.generate.cluster import (
    GeneratedCluster,
    GeneratorOptions,
    LeakSite,
    generate_cluster,
)
from netverify.generate.spec import ISOLATION, MANIFEST_FILES, ExpectedInvariant
from netverify.generate.writer import SPEC_FILE, WrittenCluster, write_cluster

__all__ = [
    "ISOLATION",
    "MANIFEST_FILES",
    "SPEC_FILE",
    "ExpectedInvariant",
    "GeneratedCluster",
    "GeneratorOptions",
    "LeakSite",
    "WrittenCluster",
    "generate_cluster",
    "write_cluster",
]
