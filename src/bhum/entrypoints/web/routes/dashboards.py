"""Dashboards: decision timeliness per clock, the CMS-0057-F metrics (REG-02), outpatient-management
flags by rule over time (OPM-03) and units used against authorized (MN-04). Charts are inline SVG."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from bhum.domain.access import Permission
from bhum.domain.errors import InputError
from bhum.entrypoints.api.dependencies import Principal
from bhum.entrypoints.api.security import get_deps, requires
from bhum.entrypoints.web import charts
from bhum.entrypoints.web.templating import render
from bhum.services.metrics import Dashboard, UrgencyMetrics, collect_dashboard

router = APIRouter(include_in_schema=False)


def _parse_day(value: str | None, field: str, default: date) -> date:
    if not value:
        return default
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise InputError("a date looks like 2026-03-02", field=field) from exc


def _reg02_rows(m: UrgencyMetrics) -> list[tuple[str, float]]:
    rows = [
        ("% approved", m.approved_pct),
        ("% denied", m.denied_pct),
        ("% approved after appeal", m.approved_after_appeal_pct),
    ]
    return [(label, value) for label, value in rows if value is not None]


def build_charts(dashboard: Dashboard) -> dict[str, object]:
    timeliness = dashboard.timeliness
    months = sorted({m for per_rule in dashboard.flags.values() for m in per_rule})
    return {
        "timeliness": charts.stacked_bars(
            "Decision timeliness by clock",
            [f"{t.rule_id} {t.label}"[:28] for t in timeliness],
            [
                charts.Series("on time", [t.on_time for t in timeliness]),
                charts.Series("late", [t.late for t in timeliness]),
                charts.Series("open", [t.open_within for t in timeliness]),
                charts.Series("open, overdue", [t.open_overdue for t in timeliness]),
            ],
            description="Requests per decision clock: decided on time, decided late, open, open past due.",
        ),
        "standard": charts.bars(
            "Standard requests (REG-02)",
            _reg02_rows(dashboard.reg02.standard),
            description="Percent of standard prior-authorization determinations approved, denied, "
            "approved after appeal.",
            suffix="percent",
        ),
        "expedited": charts.bars(
            "Expedited requests (REG-02)",
            _reg02_rows(dashboard.reg02.expedited)[:2],
            description="Percent of expedited prior-authorization determinations approved and denied.",
            suffix="percent",
        ),
        "flags": charts.lines(
            "Outpatient-management flags by rule, per month",
            months,
            [
                charts.Series(rule, [per_month.get(m, 0) for m in months])
                for rule, per_month in sorted(dashboard.flags.items(), key=lambda kv: -sum(kv[1].values()))[
                    :6
                ]
            ],
            description="Cases opened per month, by the clinical-intelligence rule that flagged them.",
        ),
        "units": charts.paired_bars(
            "Units used against units authorized (MN-04)",
            [(u.service, u.units_authorized, u.units_used) for u in dashboard.units[:12]],
            ("authorized", "used"),
            description="Per service code: units authorized and units used so far.",
        ),
        "months": months,
    }


@router.get("/web/dashboards")
def dashboards(
    request: Request,
    principal: Annotated[Principal, Depends(requires(Permission.REPORTS_READ))],
    first: Annotated[str | None, Query(max_length=10)] = None,
    last: Annotated[str | None, Query(max_length=10)] = None,
) -> HTMLResponse:
    deps = get_deps(request)
    now = deps.clock()
    today = now.astimezone(deps.settings.plan_time_zone).date()
    last_day = _parse_day(last, "last", today)
    first_day = _parse_day(first, "first", last_day - timedelta(days=364))
    dashboard = collect_dashboard(deps.uow_factory(), principal.user, now=now, first=first_day, last=last_day)
    return render(
        request,
        "dashboards.html",
        principal,
        {"d": dashboard, "charts": build_charts(dashboard), "first": first_day, "last": last_day},
        title="Dashboards",
    )
