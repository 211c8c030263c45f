"""`content_key` remembers a value's JSON by identity (the encodings of `fix`'s candidates
read the same policies), and a key is always the value's own content."""

from collections.abc import Iterator

import pytest

from netverify.encoding import policies
from netverify.encoding.policies import content_key
from netverify.model import LabelSelector, PolicyPort, PortRange, Protocol


@pytest.fixture(autouse=True)
def forgotten() -> Iterator[None]:
    saved = dict(policies._CONTENT_KEYS)
    policies._CONTENT_KEYS.clear()
    yield
    policies._CONTENT_KEYS.clear()
    policies._CONTENT_KEYS.update(saved)


def test_a_value_is_written_once(monkeypatch: pytest.MonkeyPatch) -> None:
    port = PolicyPort(protocol=Protocol.UDP, port_range=PortRange(start=53, end=53))
    first = content_key(port)
    written: list[PolicyPort] = []

    def counting(self: PolicyPort) -> str:
        written.append(self)
        return "written"

    monkeypatch.setattr(PolicyPort, "model_dump_json", counting)
    assert content_key(port) == first
    assert written == []
    other = port.model_copy()
    assert content_key(other) == "written"
    assert written == [other]


def test_keys_are_the_contents() -> None:
    web, api = (LabelSelector(match_labels={"app": app}) for app in ("web", "api"))
    assert content_key(web) == web.model_dump_json()
    assert content_key(api) == api.model_dump_json() != content_key(web)
    assert content_key(LabelSelector(match_labels={"app": "web"})) == content_key(web)


def test_a_full_memo_is_forgotten(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(policies, "REMEMBERED_KEYS", 2)
    selectors = [LabelSelector(match_labels={"app": str(n)}) for n in range(3)]
    for selector in selectors:
        content_key(selector)
    assert len(policies._CONTENT_KEYS) == 1
    assert [content_key(s) for s in selectors] == [s.model_dump_json() for s in selectors]
