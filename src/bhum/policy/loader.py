"""Load, validate and index policy packs.

Validation has two layers: the JSON Schemas in ``schema/`` (shape), then semantic checks done while
compiling (parameter types and values, parameter references, rule IDs against the catalog,
placeholders, cases). Every refusal is a PackError naming the file, the rule id and the YAML path.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from bhum.domain import values as cs
from bhum.domain.values import Code
from bhum.policy.conditions import BuildContext, build_condition, derived_of, facts_of
from bhum.policy.engine import placeholders
from bhum.policy.model import (
    Case,
    Duration,
    DurationUnit,
    Pack,
    PackError,
    Parameter,
    ParameterType,
    ParameterValue,
    Rule,
    Status,
)

CATALOG_FILE = "rule-catalog.yaml"

# Short names a pack may use for a code system; anything else must be a full URI.
CODE_SYSTEMS: dict[str, str] = {
    "icd10cm": cs.ICD10CM,
    "icd-10-cm": cs.ICD10CM,
    "hcpcs": cs.HCPCS,
    "cpt": cs.CPT,
    "ndc": cs.NDC,
    "rxnorm": cs.RXNORM,
    "revenue": cs.REVENUE,
    "pos": cs.POS,
    "modifier": cs.MODIFIER,
    "carc": cs.CARC,
    "rarc": cs.RARC,
    "taxonomy": cs.NUCC_TAXONOMY,
    "rule": cs.BHUM_RULE,
}
# bhum's own vocabularies (residence settings, contract types, credentials ...): "bhum:<name>".
LOCAL_SYSTEM_PREFIX = "https://bhum.dev/codes/"


def resolve_system(name: str) -> str | None:
    if name in CODE_SYSTEMS:
        return CODE_SYSTEMS[name]
    if name.startswith("bhum:") and re.fullmatch(r"bhum:[a-z][a-z0-9-]*", name):
        return LOCAL_SYSTEM_PREFIX + name.removeprefix("bhum:")
    if name.startswith(("http://", "https://")):
        return name
    return None


# ---------------------------------------------------------------------------- YAML + schema


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PackError(f"cannot read: {exc.strerror}", source=str(path)) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else None
        raise PackError(
            f"not valid YAML: {getattr(exc, 'problem', exc)}", source=str(path), field=where
        ) from exc


def _yaml_path(parts: Iterable[Any]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _is_string(_checker: Any, instance: Any) -> bool:
    # YAML turns 2026-01-01 into a date; the schema calls those strings.
    return isinstance(instance, str | date)


@cache
def _validator(name: str) -> jsonschema.protocols.Validator:
    schema = json.loads(resources.files("bhum.policy").joinpath("schema", name).read_text(encoding="utf-8"))
    base = jsonschema.validators.validator_for(schema)
    checker = base.TYPE_CHECKER.redefine("string", _is_string)
    cls: Any = jsonschema.validators.extend(base, type_checker=checker)  # type: ignore[no-untyped-call]
    validator: jsonschema.protocols.Validator = cls(schema)
    return validator


def _check_schema(document: Any, schema: str, source: Path) -> None:
    errors = sorted(_validator(schema).iter_errors(document), key=lambda e: [str(p) for p in e.absolute_path])
    if not errors:
        return
    error: Any = errors[0]
    parts = list(error.absolute_path)
    rule_id = None
    if len(parts) >= 2 and parts[0] == "rules" and isinstance(parts[1], int):
        rules = document.get("rules") if isinstance(document, dict) else None
        if isinstance(rules, list) and isinstance(rules[parts[1]], dict):
            rule_id = rules[parts[1]].get("id")
    if error.validator == "required" and isinstance(error.instance, dict):
        missing = next((k for k in error.validator_value if k not in error.instance), None)
        if missing is not None:
            parts.append(missing)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = set(error.schema.get("properties", {}))
        extra = next((k for k in error.instance if k not in allowed), None)
        if extra is not None:
            parts.append(extra)
    raise PackError(error.message, source=str(source), record=rule_id, field=_yaml_path(parts) or None)


# ---------------------------------------------------------------------------- catalog


def load_catalog(path: Path) -> dict[str, str]:
    """The rule catalog (IDs from RULES.md with a one-line summary) as {id: summary}."""
    document = _read_yaml(path)
    rules = document.get("rules") if isinstance(document, dict) else None
    if not isinstance(rules, dict) or not rules:
        raise PackError("expected a 'rules' mapping of ID: summary", source=str(path), field="rules")
    catalog: dict[str, str] = {}
    for rule_id, summary in rules.items():
        if not isinstance(rule_id, str) or not re.fullmatch(r"[A-Z]+-[0-9]{2}", rule_id):
            raise PackError(
                f"{rule_id!r} is not a rule ID like OPM-04", source=str(path), field=f"rules.{rule_id}"
            )
        if not isinstance(summary, str) or not summary.strip():
            raise PackError("needs a one-line summary", source=str(path), field=f"rules.{rule_id}")
        catalog[rule_id] = summary.strip()
    return catalog


def find_catalog(start: Path) -> Path | None:
    for folder in (start, *start.parents):
        candidate = folder / CATALOG_FILE
        if candidate.is_file():
            return candidate
    return None


# ---------------------------------------------------------------------------- parameters


def _code(raw: Any, where: str, err: Any, default_system: str | None = None) -> Code:
    if isinstance(raw, str) and default_system is not None:
        raw = {"code": raw}
    if not isinstance(raw, Mapping) or "code" not in raw:
        raise err(where, "a code needs {system, code} (and optionally display)")
    extra = sorted(str(k) for k in raw if k not in ("system", "code", "display"))
    if extra:  # often an unquoted comma inside a YAML flow mapping
        raise err(f"{where}.{extra[0]}", f"a code has only system, code and display, not {extra[0]!r}")
    system_name = raw.get("system", default_system)
    if not isinstance(system_name, str):
        raise err(f"{where}.system", "a code needs a system")
    system = resolve_system(system_name)
    if system is None:
        raise err(
            f"{where}.system",
            f"unknown code system {system_name!r}; use {', '.join(CODE_SYSTEMS)}, bhum:<name> or a URI",
        )
    code = raw["code"]
    if isinstance(code, int):  # YAML reads 0905 as text only when quoted; keep what was written
        code = str(code)
    if not isinstance(code, str) or not code or code != code.strip():
        raise err(f"{where}.code", f"{code!r} is not a code")
    display = raw.get("display")
    return Code(system, code, display if isinstance(display, str) else None)


def _parameter(name: str, raw: Mapping[str, Any], where: str, ctx_err: Any) -> Parameter:
    kind = ParameterType(raw["type"])
    value = raw["value"]
    unit = raw.get("unit")
    choices = tuple(raw.get("choices") or ())
    vpath = f"{where}.value"

    def bad(expected: str) -> PackError:
        return ctx_err(vpath, f"{value!r} is not {expected} (parameter {name!r} is {kind.value})")  # type: ignore[no-any-return]

    parsed: ParameterValue
    if kind is ParameterType.INTEGER:
        if not isinstance(value, int) or isinstance(value, bool):
            raise bad("an integer")
        parsed = value
    elif kind is ParameterType.NUMBER:
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise bad("a number")
        parsed = value
    elif kind is ParameterType.BOOLEAN:
        if not isinstance(value, bool):
            raise bad("true or false")
        parsed = value
    elif kind is ParameterType.STRING:
        if not isinstance(value, str):
            raise bad("a string")
        parsed = value
    elif kind is ParameterType.STRING_LIST:
        if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
            raise bad("a non-empty list of strings")
        parsed = tuple(value)
    elif kind is ParameterType.DATE:
        if isinstance(value, datetime) or not isinstance(value, date | str):
            raise bad("a date")
        try:
            parsed = value if isinstance(value, date) else date.fromisoformat(value)
        except ValueError:
            raise bad("a date (YYYY-MM-DD)") from None
    elif kind is ParameterType.DURATION:
        if not isinstance(value, Mapping) or set(value) != {"amount", "unit"}:
            raise bad("a duration {amount, unit}")
        amount, dunit = value["amount"], value["unit"]
        if not isinstance(amount, int) or isinstance(amount, bool) or amount < 0:
            raise ctx_err(f"{vpath}.amount", f"{amount!r} is not a whole, non-negative amount")
        if dunit not in {u.value for u in DurationUnit}:
            raise ctx_err(
                f"{vpath}.unit", f"{dunit!r} is not one of {', '.join(u.value for u in DurationUnit)}"
            )
        parsed = Duration(amount, DurationUnit(dunit))
    elif kind is ParameterType.CODE:
        parsed = _code(value, vpath, ctx_err, raw.get("system"))
    elif kind is ParameterType.CODE_SET:
        if not isinstance(value, list) or not value:
            raise bad("a non-empty list of codes")
        parsed = frozenset(
            _code(item, f"{vpath}[{i}]", ctx_err, raw.get("system")) for i, item in enumerate(value)
        )
    else:  # ENUM
        if not choices:
            raise ctx_err(f"{where}.choices", f"enum parameter {name!r} needs its choices")
        if value not in choices:
            raise ctx_err(vpath, f"{value!r} is not one of the choices {', '.join(choices)}")
        parsed = value
    if choices and kind is not ParameterType.ENUM:
        raise ctx_err(f"{where}.choices", "only enum parameters have choices")
    return Parameter(name, kind, parsed, raw["description"], unit, choices)


# ---------------------------------------------------------------------------- facts in cases


def _fact(value: Any, where: str, err: Any) -> Any:
    """Case facts as the engine will see them: {system, code} mappings become Codes."""
    if isinstance(value, Mapping) and "code" in value and "system" in value:
        return _code(value, where, err)
    if isinstance(value, list):
        return [_fact(v, f"{where}[{i}]", err) for i, v in enumerate(value)]
    return value


# ---------------------------------------------------------------------------- rules and packs


def _rule(
    raw: Mapping[str, Any], index: int, source: Path, catalog: Mapping[str, str], pack: Mapping[str, Any]
) -> Rule:
    rule_id = raw["id"]
    at = f"rules[{index}]"

    def err(field: str, message: str) -> PackError:
        return PackError(message, source=str(source), record=rule_id, field=field)

    for i, ref in enumerate(raw["implements"]):
        if ref not in catalog:
            raise err(f"{at}.implements[{i}]", f"{ref} is not in the rule catalog ({CATALOG_FILE})")
    parameters = {
        name: _parameter(name, spec, f"{at}.parameters.{name}", err)
        for name, spec in raw["parameters"].items()
    }
    ctx = BuildContext(source=str(source), rule_id=rule_id, parameters=parameters)
    applies_when = (
        build_condition(raw["applies_when"], f"{at}.applies_when", ctx) if "applies_when" in raw else None
    )
    condition = build_condition(raw["condition"], f"{at}.condition", ctx)

    known = set(parameters) | facts_of(condition) | derived_of(condition)
    if applies_when is not None:
        known |= facts_of(applies_when) | derived_of(applies_when)
    # Facts the condition does not read may still be named, if the rule's cases give them: a typo in
    # a placeholder then shows up as a validation error, not as "not documented" in a letter.
    known |= {str(k) for case in raw["cases"] for k in case["given"]}
    try:
        names = placeholders(raw["explanation"])
    except ValueError as exc:
        raise err(f"{at}.explanation", f"malformed placeholder: {exc}") from exc
    for name in sorted(names):
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", name) or name not in known:
            raise err(
                f"{at}.explanation",
                f"placeholder {{{name}}} is not a parameter, a derived value, "
                "or a fact read by the condition or given in a case",
            )

    codes = tuple(
        _code(c, f"{at}.codes_when_not_met[{i}]", err)
        for i, c in enumerate(raw.get("codes_when_not_met", ()))
    )
    for i, code in enumerate(codes):
        if code.system == cs.CARC and code.code == "62":
            raise err(f"{at}.codes_when_not_met[{i}]", "CARC 62 is deactivated; never use it")

    cases = []
    seen: set[str] = set()
    for i, case in enumerate(raw["cases"]):
        if case["name"] in seen:
            raise err(f"{at}.cases[{i}].name", f"duplicate case name {case['name']!r}")
        seen.add(case["name"])
        given = {k: _fact(v, f"{at}.cases[{i}].given.{k}", err) for k, v in case["given"].items()}
        if applies_when is None and case["expect"] == Status.NOT_APPLICABLE.value:
            raise err(f"{at}.cases[{i}].expect", "not_applicable needs an applies_when on the rule")
        cases.append(Case(case["name"], given, Status(case["expect"]), dict(case.get("values") or {})))

    return Rule(
        id=rule_id,
        implements=tuple(raw["implements"]),
        title=raw["title"],
        explanation=" ".join(raw["explanation"].split()),
        parameters=parameters,
        condition=condition,
        cases=tuple(cases),
        applies_when=applies_when,
        codes_when_not_met=codes,
        pack_id=pack["id"],
        pack_version=pack["version"],
        source_file=str(source),
        source=str(raw.get("source") or pack["source"]),
    )


def load_pack(path: str | Path, *, catalog: Mapping[str, str] | None = None) -> Pack:
    """Load and validate one pack folder (``packs/<program>/<version>``) or its ``pack.yaml``."""
    folder = Path(path)
    if folder.name == "pack.yaml":
        folder = folder.parent
    header_file = folder / "pack.yaml"
    if not header_file.is_file():
        raise PackError("no pack.yaml in the pack folder", source=str(folder), field="pack.yaml")
    header = _read_yaml(header_file)
    _check_schema(header, "pack.schema.json", header_file)
    if header["version"] != folder.name:
        raise PackError(
            f"version {header['version']!r} differs from its folder {folder.name!r}",
            source=str(header_file),
            field="version",
        )
    if header["id"] != folder.parent.name:
        raise PackError(
            f"pack id {header['id']!r} differs from its folder {folder.parent.name!r}",
            source=str(header_file),
            field="id",
        )
    if catalog is None:
        catalog_file = find_catalog(folder)
        if catalog_file is None:
            raise PackError(f"no {CATALOG_FILE} in the pack folder or above it", source=str(header_file))
        catalog = load_catalog(catalog_file)

    # Rules sit in rules/*.yaml, or inline in pack.yaml (then checked with the same rule schema).
    documents: list[tuple[Path, Any]] = []
    if "rules" in header:
        documents.append((header_file, {"rules": header["rules"]}))
    documents += [(f, _read_yaml(f)) for f in sorted((folder / "rules").glob("*.yaml"))]
    if not documents:
        raise PackError("a pack needs rules in rules/*.yaml or in pack.yaml", source=str(folder / "rules"))
    rules: list[Rule] = []
    seen: dict[str, str] = {}
    for rule_file, document in documents:
        _check_schema(document, "rule.schema.json", rule_file)
        for index, raw in enumerate(document["rules"]):
            if raw["id"] in seen:
                raise PackError(
                    f"rule id already used in {seen[raw['id']]}",
                    source=str(rule_file),
                    record=raw["id"],
                    field=f"rules[{index}].id",
                )
            seen[raw["id"]] = rule_file.name
            rules.append(_rule(raw, index, rule_file, catalog, header))
    effective = header["effective_from"]
    return Pack(
        id=header["id"],
        program=header["program"],
        version=header["version"],
        title=header["title"],
        effective_from=effective if isinstance(effective, date) else date.fromisoformat(effective),
        source=header["source"],
        description=" ".join(header["description"].split()),
        rules=tuple(rules),
        path=str(folder),
    )


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split(".") if p.isdigit())


class PackRegistry:
    """Every loaded pack, and for each program the one in force: the latest version, or a pinned one."""

    def __init__(
        self,
        packs: Iterable[Pack],
        *,
        pins: Mapping[str, str] | None = None,
        catalog: Mapping[str, str] | None = None,
    ) -> None:
        self.catalog: dict[str, str] = dict(catalog or {})
        self._all: dict[tuple[str, str], Pack] = {}
        for pack in packs:
            # Keyed by pack id (its folder), which is the program for the core packs.
            self._all[(pack.id, pack.version)] = pack
        self._selected: dict[str, Pack] = {}
        for program in sorted({p for p, _ in self._all}):
            pinned = (pins or {}).get(program)
            if pinned is not None:
                if (program, pinned) not in self._all:
                    raise PackError(f"pinned version {pinned} of {program} is not loaded", field=program)
                self._selected[program] = self._all[(program, pinned)]
            else:
                version = max((v for p, v in self._all if p == program), key=_version_key)
                self._selected[program] = self._all[(program, version)]
        self._rules: dict[str, Rule] = {}
        for pack in self._selected.values():
            for rule in pack.rules:
                if rule.id in self._rules:
                    other = self._rules[rule.id]
                    raise PackError(
                        f"rule id also used by pack {other.pack_id}@{other.pack_version}",
                        source=rule.source_file,
                        record=rule.id,
                        field="id",
                    )
                self._rules[rule.id] = rule

    @property
    def packs(self) -> list[Pack]:
        """The pack in force for each program, by program name."""
        return [self._selected[p] for p in sorted(self._selected)]

    def all_versions(self) -> list[Pack]:
        return [self._all[k] for k in sorted(self._all, key=lambda k: (k[0], _version_key(k[1])))]

    def pack(self, program: str, version: str | None = None) -> Pack:
        if version is None:
            if program not in self._selected:
                raise KeyError(f"no pack for program {program!r}")
            return self._selected[program]
        if (program, version) not in self._all:
            raise KeyError(f"no pack {program}@{version}")
        return self._all[(program, version)]

    def rule(self, rule_id: str) -> Rule:
        if rule_id not in self._rules:
            raise KeyError(f"no rule {rule_id!r} in the packs in force")
        return self._rules[rule_id]

    def rules(self) -> list[Rule]:
        return list(self._rules.values())

    def parameter(self, rule_id: str, name: str) -> Parameter:
        rule = self.rule(rule_id)
        if name not in rule.parameters:
            raise KeyError(f"rule {rule_id!r} has no parameter {name!r}")
        return rule.parameters[name]

    def _typed(self, rule_id: str, name: str, kind: ParameterType) -> ParameterValue:
        param = self.parameter(rule_id, name)
        if param.type is not kind:
            raise TypeError(f"{rule_id}.{name} is {param.type.value}, not {kind.value}")
        return param.value

    def integer(self, rule_id: str, name: str) -> int:
        value = self._typed(rule_id, name, ParameterType.INTEGER)
        assert isinstance(value, int)
        return value

    def number(self, rule_id: str, name: str) -> float:
        param = self.parameter(rule_id, name)
        if param.type not in (ParameterType.NUMBER, ParameterType.INTEGER):
            raise TypeError(f"{rule_id}.{name} is {param.type.value}, not a number")
        assert isinstance(param.value, int | float)
        return float(param.value)

    def boolean(self, rule_id: str, name: str) -> bool:
        value = self._typed(rule_id, name, ParameterType.BOOLEAN)
        assert isinstance(value, bool)
        return value

    def string(self, rule_id: str, name: str) -> str:
        param = self.parameter(rule_id, name)
        if param.type not in (ParameterType.STRING, ParameterType.ENUM):
            raise TypeError(f"{rule_id}.{name} is {param.type.value}, not a string")
        assert isinstance(param.value, str)
        return param.value

    def strings(self, rule_id: str, name: str) -> tuple[str, ...]:
        value = self._typed(rule_id, name, ParameterType.STRING_LIST)
        assert isinstance(value, tuple)
        return value

    def date(self, rule_id: str, name: str) -> date:
        value = self._typed(rule_id, name, ParameterType.DATE)
        assert isinstance(value, date)
        return value

    def duration(self, rule_id: str, name: str) -> Duration:
        value = self._typed(rule_id, name, ParameterType.DURATION)
        assert isinstance(value, Duration)
        return value

    def code(self, rule_id: str, name: str) -> Code:
        value = self._typed(rule_id, name, ParameterType.CODE)
        assert isinstance(value, Code)
        return value

    def code_set(self, rule_id: str, name: str) -> frozenset[Code]:
        value = self._typed(rule_id, name, ParameterType.CODE_SET)
        assert isinstance(value, frozenset)
        return value


def pack_folders(root: Path) -> list[Path]:
    return sorted(p.parent for p in root.glob("*/*/pack.yaml"))


def load_packs(root: str | Path, *, pins: Mapping[str, str] | None = None) -> PackRegistry:
    """Load every pack under ``root`` (``<root>/<program>/<version>/pack.yaml``).

    Rule IDs are checked against ``<root>/rule-catalog.yaml``.
    """
    root = Path(root)
    catalog_file = root / CATALOG_FILE
    if not catalog_file.is_file():
        raise PackError(f"no {CATALOG_FILE} in the packs folder", source=str(root))
    catalog = load_catalog(catalog_file)
    packs = [load_pack(folder, catalog=catalog) for folder in pack_folders(root)]
    return PackRegistry(packs, pins=pins, catalog=catalog)
