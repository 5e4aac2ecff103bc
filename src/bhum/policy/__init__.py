"""Rules as versioned data: policy packs, the closed set of condition types, evaluation and pack tests.

Public API::

    load_pack(path) -> Pack
    load_packs(root, pins=None) -> PackRegistry      # .rule(id), .parameter(id, name), .integer(...), ...
    evaluate(rule, facts) -> Outcome                  # met / not_met / unknown / not_applicable
    run_pack_tests(pack) -> list[CaseResult]
    clock_rule(rule, parameter=None) -> bhum.domain.clocks.ClockRule
"""

from __future__ import annotations

from bhum.policy.clock import clock_rule, deadline_parameter
from bhum.policy.engine import evaluate, run_pack_tests, run_rule_tests, summary
from bhum.policy.loader import CODE_SYSTEMS, PackRegistry, load_catalog, load_pack, load_packs, resolve_system
from bhum.policy.model import (
    Case,
    CaseResult,
    Duration,
    DurationUnit,
    Evidence,
    Outcome,
    Pack,
    PackError,
    Parameter,
    ParameterType,
    Rule,
    Status,
)

__all__ = [
    "CODE_SYSTEMS",
    "Case",
    "CaseResult",
    "Duration",
    "DurationUnit",
    "Evidence",
    "Outcome",
    "Pack",
    "PackError",
    "PackRegistry",
    "Parameter",
    "ParameterType",
    "Rule",
    "Status",
    "clock_rule",
    "deadline_parameter",
    "evaluate",
    "load_catalog",
    "load_pack",
    "load_packs",
    "resolve_system",
    "run_pack_tests",
    "run_rule_tests",
    "summary",
]
