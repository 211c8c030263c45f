"""What two loads of one diff share: parsed files and documents, and the objects read from
the documents they share."""

from collections.abc import Callable
from dataclasses import replace
from typing import TypeVar, cast

from netverify.loading.fields import ObjectFields
from netverify.loading.yamlsource import YamlDocument, parse_documents

_Read = TypeVar("_Read")


class ParseCache:
    """Parsed documents by file text, and by document text: two revisions that share most
    files (a diff) parse each shared file once, and of a file they both have but do not
    share, only the documents that differ. A document's data depends only on its text, and
    its lines are counted in its own file.

    Reading an object of a shared document again (into a `Pod`, a `NetworkPolicy`) is also
    skipped: what was read from the very same data, in the same namespace, is reused when
    that read reported nothing (a read that did is done again, to report it in its file).
    """

    def __init__(self) -> None:
        self._files: dict[str, list[YamlDocument]] = {}
        self._documents: dict[str, object] = {}
        self.reads: dict[tuple[int, str], tuple[object, object]] = {}
        """Objects read (`read_once`), with the data they were read from, by the data's id
        and namespace."""

    def parse(self, text: str, file: str) -> list[YamlDocument]:
        cached = self._files.get(text)
        if cached is None:
            cached = self._files[text] = parse_documents(text, file, self._documents)
        return [
            document if document.file == file else replace(document, file=file)
            for document in cached
        ]


def read_once(
    cache: ParseCache | None,
    fields: ObjectFields,
    data: dict[str, object],
    namespace: str,
    read: Callable[[], _Read | None],
) -> _Read | None:
    """`read()` of the object `data` (in `fields`), or, when a load shares `cache`, what it
    returned before for the very same data in the same namespace."""
    if cache is None:
        return read()
    key = (id(data), namespace)
    # The data is kept with its result, so its id is not reused while the entry exists.
    known = cache.reads.get(key)
    if known is not None and known[0] is data:
        return cast(_Read, known[1])
    reported = len(fields.sink.errors) + len(fields.sink.warnings)
    result = read()
    if result is not None and len(fields.sink.errors) + len(fields.sink.warnings) == reported:
        cache.reads[key] = (data, result)
    return result
