"""*Tự động xếp lịch* in the console: the planner's proposal as the operator reads it, then applied exactly.

`fill_proposal` queues nothing; its fingerprint (the proposed session and bulletin of every row) goes
with the *Áp dụng* button, and `apply_fill` queues only if the planner, run again, proposes the same.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from broadcaster import labels, planning
from broadcaster.domain import Role
from broadcaster.errors import InvalidStateError
from broadcaster.planning import fill
from broadcaster.services import filling, queue
from broadcaster.services.form_fields import parse_day
from broadcaster.services.plan_tools import PlanTools
from broadcaster.services.stations import campaign_titles, find_station
from broadcaster.services.users import require_role
from broadcaster.store.models import BulletinRow


@dataclass(frozen=True)
class ProposalRow:
    """One airing the fill planner proposes, as the operator reads it."""

    start: datetime
    day: date  # the station's local date of the session
    session_name: str
    bulletin_id: int
    bulletin_title: str
    campaign_title: str
    duration_s: float
    reason: str


@dataclass(frozen=True)
class FillProposalView:
    """The planner's proposal for a date range, its shortfalls, and a fingerprint to apply exactly it."""

    start: date
    end: date
    rows: list[ProposalRow]
    shortfalls: list[str]
    fingerprint: str


def proposal_fingerprint(result: fill.FillResult) -> str:
    """A short hash of what a proposal would queue (session start and bulletin of each row)."""
    lines = sorted(f"{p.occurrence.start.isoformat()}|{p.candidate.bulletin_id}" for p in result.proposals)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()[:16]


def fill_proposal(
    session: Session,
    tools: PlanTools,
    station_code: str | None,
    first: str,
    last: str,
    *,
    actor: str | None,
    now: datetime,
) -> FillProposalView:
    """What *Tự động xếp lịch* would queue from `first` to `last` (typed dates); nothing is queued."""
    require_role(session, actor, Role.OPERATOR)
    start, end = parse_day(first, "tu"), parse_day(last, "den")
    planning.check_day_order(start, end, "Đổi lại hai ngày.", field="den")
    row = find_station(session, station_code)
    outcome = filling.fill_range(
        session,
        row,
        start,
        end,
        actor=actor,
        now=now,
        lengths=queue.Lengths(tools.programme_shape(session, row), tools.duration_of(session)),
        apply=False,
    )
    titles = campaign_titles(session, row.id)
    bulletin_titles: dict[int, str] = {
        bulletin_id: title
        for bulletin_id, title in session.execute(
            select(BulletinRow.id, BulletinRow.title).where(BulletinRow.station_id == row.id)
        )
    }
    rows = [
        ProposalRow(
            p.occurrence.start,
            planning.local_day(p.occurrence.start, planning.station_zone(outcome.station)),
            labels.session_name(p.occurrence.session_code, p.occurrence.name),
            p.candidate.bulletin_id,
            bulletin_titles.get(p.candidate.bulletin_id, ""),
            titles.get(p.candidate.campaign_code, p.candidate.campaign_code),
            p.candidate.duration_s,
            p.reason,
        )
        for p in outcome.result.proposals
    ]
    shortfalls = [
        f.message().replace(
            f"Chiến dịch {f.campaign_code}", f"Chiến dịch «{titles.get(f.campaign_code, f.campaign_code)}»", 1
        )
        for f in outcome.result.shortfalls
    ]
    return FillProposalView(start, end, rows, shortfalls, proposal_fingerprint(outcome.result))


def apply_fill(
    session: Session,
    tools: PlanTools,
    station_code: str | None,
    first: str,
    last: str,
    fingerprint: str,
    *,
    actor: str | None,
    now: datetime,
) -> filling.FillOutcome:
    """Queue exactly the proposal the operator saw; if the plan changed since, nothing is queued."""
    require_role(session, actor, Role.OPERATOR)
    start, end = parse_day(first, "tu"), parse_day(last, "den")
    row = find_station(session, station_code)
    outcome = filling.fill_range(
        session,
        row,
        start,
        end,
        actor=actor,
        now=now,
        lengths=queue.Lengths(tools.programme_shape(session, row), tools.duration_of(session)),
        apply=True,
    )
    if proposal_fingerprint(outcome.result) != fingerprint.strip():
        raise InvalidStateError(  # raised inside the caller's transaction: what was queued rolls back
            "Lịch đã thay đổi từ lúc xem đề xuất nên chưa xếp gì.",
            "Xem lại đề xuất mới rồi bấm áp dụng.",
        )
    return outcome
