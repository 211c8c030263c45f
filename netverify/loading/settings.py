"""One settings source for every command: built-in defaults < CNI profile < `netverify.yaml`
keys < command-line flags < a spec's `settings:` (prove only); docs/settings.md.

`netverify.yaml` is found the way ruff finds its configuration: in the working directory or
the nearest parent that has one, looking no higher than the filesystem root or the folder
that holds a `.git` (the repository's top). Its errors name the file and line, like every
other input error.
"""

import difflib
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from netverify.loading.fields import format_field
from netverify.loading.inputfiles import read_text
from netverify.loading.validation import cidr_error, parse_cidr
from netverify.loading.yamlsource import YamlDocument, parse_documents
from netverify.model import Diagnostic, InputError, IPNetwork, Settings, Severity, SourceSpan
from netverify.model.base import Frozen
from netverify.model.profiles import DEFAULT_PROFILE, PROFILES

CONFIG_NAME = "netverify.yaml"
_KEYS = ("profile", "ipBlockMatchesPods", "podCIDRs")


class SettingsLayer(Frozen):
    """The settings one source names; `None`: this source leaves the field to those below."""

    ip_block_matches_pods: bool | None = None
    pod_cidrs: tuple[IPNetwork, ...] | None = None

    def over(self, below: Settings) -> Settings:
        """`below` with the fields this layer names replaced."""
        named = {key: value for key, value in self if value is not None}
        return below.model_copy(update=named)


@dataclass(frozen=True)
class SettingsFlags:
    """The settings options of a command line, as typed."""

    profile: str | None = None
    pod_cidrs: tuple[str, ...] = ()
    config: str | None = None
    """`--config PATH`: this file instead of the one found from the working directory."""
    no_config: bool = False
    """`--no-config`: read no `netverify.yaml`."""


class SettingsSources(Frozen):
    """Every settings source below a spec, read and checked."""

    profile: str = DEFAULT_PROFILE
    """The profile the config file or `--profile` chose."""
    config_file: str | None = None
    """The `netverify.yaml` read, if any."""
    config: SettingsLayer = SettingsLayer()
    flags: SettingsLayer = SettingsLayer()

    def settings(self, spec: SettingsLayer | None = None, profile: str | None = None) -> Settings:
        """The settings under `profile` (default: the chosen one), with the config file's
        keys, the flags and then the spec's `settings:` on top."""
        resolved = PROFILES[profile or self.profile].settings
        for layer in (self.config, self.flags, spec or SettingsLayer()):
            resolved = layer.over(resolved)
        return resolved

    def per_profile(self, spec: SettingsLayer | None = None) -> dict[str, Settings]:
        """The settings under each profile in turn (the other sources kept)."""
        return {name: self.settings(spec, name) for name in PROFILES}


def find_config(start: Path) -> Path | None:
    """The nearest `netverify.yaml` from `start` up, stopping at a repository's top."""
    for folder in (start, *start.parents):
        candidate = folder / CONFIG_NAME
        if candidate.is_file():
            return candidate
        if (folder / ".git").exists():
            return None
    return None


def settings_sources(flags: SettingsFlags, cwd: Path | None = None) -> SettingsSources:
    """Read the config file (unless `--no-config`) and check the flags; raises `InputError`
    with every problem found."""
    path: str | None = flags.config
    if path is None and not flags.no_config:
        start = cwd or Path.cwd()
        found = find_config(start)
        path = None if found is None else os.path.relpath(found, start)
    sources = SettingsSources() if path is None else _read_config(path, flags.config is None)
    errors: list[Diagnostic] = []
    profile = sources.profile
    if flags.profile is not None:
        problem = _profile_error(flags.profile)
        if problem:
            errors.append(_error(f"--profile {flags.profile!r}: {problem}"))
        profile = flags.profile
    cidrs: list[IPNetwork] = []
    for text in flags.pod_cidrs:
        problem = cidr_error(text)
        cidr = parse_cidr(text) if problem is None else None
        if cidr is None:
            errors.append(_error(f"--pod-cidr {text!r}: {problem or 'not a CIDR'}"))
        else:
            cidrs.append(cidr)
    if errors:
        raise InputError(errors)
    layer = SettingsLayer(pod_cidrs=tuple(cidrs) if cidrs else None)
    return sources.model_copy(update={"profile": profile, "flags": layer})


def _read_config(file: str, discovered: bool) -> SettingsSources:
    """The settings of `file`; a discovered file that is a spec (it has `invariants`, as
    specs were once named `netverify.yaml`) holds none."""
    documents = parse_documents(read_text(file), file)
    document = documents[0] if documents else YamlDocument(None, file, 0, {})
    data = {} if document.data is None else document.data
    if discovered and isinstance(data, dict) and "invariants" in data:
        return SettingsSources()
    if len(documents) > 1 or not isinstance(data, dict):
        raise InputError([_error(f"{CONFIG_NAME} is one mapping of {', '.join(_KEYS)}", file)])
    errors: list[Diagnostic] = []

    def fail(key: str | int, message: str, *within: str | int) -> None:
        line = document.line_of((*within, key))
        field = format_field((*within, key))
        errors.append(_error(message, file, line, field))

    profile, ip_block, cidrs = DEFAULT_PROFILE, None, None
    for raw_key, value in data.items():
        key = raw_key if isinstance(raw_key, str) else str(raw_key)
        if key == "profile":
            problem = _profile_error(value) if isinstance(value, str) else "must be a name"
            if problem:
                fail(key, problem)
            else:
                profile = value
        elif key == "ipBlockMatchesPods":
            if isinstance(value, bool):
                ip_block = value
            else:
                fail(key, "must be true or false")
        elif key == "podCIDRs":
            cidrs = _cidrs(value, lambda index, problem: fail(index, problem, "podCIDRs"))
            if not isinstance(value, list):
                fail(key, "must be a list of CIDRs")
        else:
            fail(key, f"unknown key{_closest(str(key), _KEYS)} (keys: {', '.join(_KEYS)})")
    if errors:
        raise InputError(errors)
    layer = SettingsLayer(ip_block_matches_pods=ip_block, pod_cidrs=cidrs)
    return SettingsSources(profile=profile, config_file=file, config=layer)


def _cidrs(value: object, fail: Callable[[int, str], None]) -> tuple[IPNetwork, ...] | None:
    if not isinstance(value, list):
        return None
    cidrs: list[IPNetwork] = []
    for index, text in enumerate(value):
        problem = cidr_error(text) if isinstance(text, str) else "must be a CIDR string"
        cidr = parse_cidr(text) if problem is None else None
        if cidr is None:
            fail(index, problem or "not a CIDR")
        else:
            cidrs.append(cidr)
    return tuple(cidrs)


def _profile_error(name: str) -> str | None:
    if name in PROFILES:
        return None
    return f"unknown profile{_closest(name, PROFILES)} (profiles: {', '.join(PROFILES)})"


def _closest(name: str, known: Iterable[str]) -> str:
    known = tuple(known)
    folded = {choice.lower(): choice for choice in known}
    match = folded.get(name.lower()) or next(
        iter(difflib.get_close_matches(name, list(known), n=1)), None
    )
    return f' "{name}"; did you mean "{match}"?' if match else f' "{name}"'


def _error(
    message: str, file: str | None = None, line: int = 1, field: str | None = None
) -> Diagnostic:
    span = SourceSpan(file=file, line=line) if file is not None else None
    return Diagnostic(severity=Severity.ERROR, message=message, span=span, field=field)
