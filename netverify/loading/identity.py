"""Who a manifest object is: its kind, namespace and name from its metadata, and where it is
defined. Each object is defined once: a second definition that reads differently is an error
naming both places; one that reads the same (a copy-pasted manifest, which `kubectl apply`
applies twice to the same effect) is a warning, and read once."""

from dataclasses import dataclass, field

from netverify.loading.fields import ObjectFields
from netverify.loading.selectors import read_labels
from netverify.loading.validation import dns1123_label_error
from netverify.loading.yamlconvert import Path
from netverify.model import ObjectRef, SourceSpan

DEFAULT_NAMESPACE = "default"


@dataclass
class ObjectIdentities:
    """Names objects from their metadata and remembers where each was first defined, and
    what it was read as."""

    namespace: str | None = None
    """The namespace given on the command line (`-n`): where objects without one land, and
    the only one an object may name."""
    seen: dict[tuple[str, ObjectRef], tuple[SourceSpan, object]] = field(default_factory=dict)

    def identify(
        self, fields: ObjectFields, data: dict[str, object], kind: str, *, namespaced: bool
    ) -> tuple[ObjectRef, dict[str, str]] | None:
        """Name the object from its metadata and check its labels; None if it has no name."""
        raw_metadata = fields.required(data, (), "metadata")
        if raw_metadata is None:
            return None
        metadata = fields.mapping(raw_metadata, ("metadata",))
        if metadata is None:
            return None
        raw_name = fields.required(metadata, ("metadata",), "name")
        name = None if raw_name is None else fields.string(raw_name, ("metadata", "name"))
        if name == "":
            fields.error(("metadata", "name"), "must be non-empty")
            name = None
        namespace = None
        if namespaced:
            namespace = self.namespace or DEFAULT_NAMESPACE
            if (raw_namespace := metadata.get("namespace")) is not None:
                path: Path = ("metadata", "namespace")
                namespace = fields.string(raw_namespace, path)
                problem = None if namespace is None else dns1123_label_error(namespace, "namespace")
                if namespace is not None and problem is None:
                    problem = self._namespace_conflict(namespace)
                if problem is not None:
                    fields.error(path, problem)
                    namespace = None
        if name is None or (namespaced and namespace is None):
            return None
        ref = ObjectRef(kind=kind, namespace=namespace, name=name)
        fields.name = str(ref)
        labels = read_labels(fields, metadata.get("labels"), ("metadata", "labels"))
        return ref, labels

    def _namespace_conflict(self, namespace: str) -> str | None:
        """kubectl's refusal of an object in another namespace than `-n`'s."""
        if self.namespace is None or namespace == self.namespace:
            return None
        return (
            f'the namespace from the provided object "{namespace}" does not match the '
            f"namespace \"{self.namespace}\". You must pass '--namespace={namespace}' to "
            "perform this operation."
        )

    def claim(
        self, fields: ObjectFields, ref: ObjectRef, read: object, group: str = ""
    ) -> SourceSpan | None:
        """Record where `ref` is defined and what it was `read` as, and return where; None
        when it already was (an error, or a warning if both definitions read the same). The
        messages leave the name to the diagnostic's object, which `identify` set."""
        span = fields.span()
        first, first_read = self.seen.setdefault((group, ref), (span, read))
        if first is span:
            return span
        if read == first_read:
            fields.warn_or_fail(
                (),
                f"defined twice, alike in all that netverify reads: at {first} and at {span}",
            )
        else:
            fields.error((), f"defined more than once: at {first} and at {span}")
        return None

    def identify_namespaced(
        self, fields: ObjectFields, data: dict[str, object], kind: str
    ) -> tuple[ObjectRef, str, dict[str, str]] | None:
        """A namespaced object's reference, namespace and labels; None if it has no name."""
        identified = self.identify(fields, data, kind, namespaced=True)
        if identified is None:
            return None
        ref, labels = identified
        assert ref.namespace is not None
        return ref, ref.namespace, labels
