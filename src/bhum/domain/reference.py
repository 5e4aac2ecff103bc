"""Versioned reference code lists (HCPCS groups, ICD-10-CM groups, NDC classes, CARC/RARC …) as plain
values. Loading from files lives in ``bhum.adapters.reference``; this module only models and looks up."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from bhum.domain.errors import InputError
from bhum.domain.values import Code


@dataclass(frozen=True, slots=True)
class CodeListEntry:
    """One code of a list, the group it belongs to, and any extra attributes (e.g. an NDC's RxNorm code)."""

    code: Code
    group: str
    attributes: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True, slots=True)
class CodeList:
    """A named, versioned code list. A code may belong to several groups but has one system and display."""

    name: str
    version: str
    entries: tuple[CodeListEntry, ...]
    description: str = ""
    _by_code: Mapping[str, Mapping[str, CodeListEntry]] = field(init=False, repr=False, compare=False)
    _groups: Mapping[str, tuple[Code, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # A code string may live in two systems (e.g. UB-04 admit source "1" and admit type "1"),
        # so the index keeps every system a code appears with; lookups then need the system.
        by_code: dict[str, dict[str, CodeListEntry]] = {}
        groups: dict[str, list[Code]] = {}
        for entry in self.entries:
            by_code.setdefault(entry.code.code, {}).setdefault(entry.code.system, entry)
            groups.setdefault(entry.group, []).append(entry.code)
        object.__setattr__(self, "_by_code", MappingProxyType(by_code))
        object.__setattr__(self, "_groups", MappingProxyType({k: tuple(v) for k, v in groups.items()}))

    @property
    def label(self) -> str:
        return f"{self.name} {self.version}"

    @property
    def group_names(self) -> tuple[str, ...]:
        return tuple(self._groups)

    def group(self, name: str) -> tuple[Code, ...]:
        """Codes of one group; an unknown group is an input error naming the list."""
        try:
            return self._groups[name]
        except KeyError:
            raise InputError(
                f"no group {name!r} in reference list {self.label}", field="group", source=self.label
            ) from None

    def codes(self, *groups: str) -> frozenset[str]:
        """The bare code strings of the given groups (all groups when none are named)."""
        names: Iterable[str] = groups or self._groups.keys()
        return frozenset(c.code for name in names for c in self.group(name))

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and code in self._by_code

    def __len__(self) -> int:
        return len(self._by_code)

    def lookup(self, code: str, *, system: str | None = None) -> Code:
        """The Code for a bare code string; unknown codes raise InputError naming the list and code."""
        return self.entry(code, system=system).code

    def entry(self, code: str, *, system: str | None = None) -> CodeListEntry:
        systems = self._by_code.get(code, {})
        found = systems.get(system) if system is not None else None
        if system is None and len(systems) == 1:
            found = next(iter(systems.values()))
        if found is None:
            why = "ambiguous (several systems) " if system is None and len(systems) > 1 else "unknown "
            raise InputError(
                f"{why}code {code!r} in reference list {self.label}"
                + (f" for system {system}" if system else ""),
                field="code",
                record=code,
                source=self.label,
            )
        return found

    def group_of(self, code: str) -> str:
        """The first group a code was listed in."""
        return self.entry(code).group
