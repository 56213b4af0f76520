"""Web bench, the history: a year of past sessions as the daemon would have left them (airings, as-run rows).

Each past session (06:00 and 17:00, Monday to Saturday) gets its airings, claimed and settled (ORM bulk),
and one as-run row per item appended with `airlog.append`; SESSIONS_PER_COMMIT sessions per commit, each
commit through the App's session so the signed chain head is written. Mostly completed; about 1.5 % of
the sessions missed (the daemon was down), 0.5 % failed, 1.5 % cut by an emergency (the cut item
interrupted, the rest skipped, and the emergency's own airing and row).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from broadcaster import airlog, planning
from broadcaster.app import App
from broadcaster.domain import (
    EMERGENCY_SESSION,
    AsRunEntry,
    BulletinStatus,
    Outcome,
    Priority,
    SessionOccurrence,
    Trigger,
)
from broadcaster.services import stations
from broadcaster.store.models import AiringRow, BulletinRow, RenderRow, RevisionRow

OPERATOR = "hung"
STATION = "phu-thu"
# Past sessions are committed this many at a time (each commit signs the chain head once).
SESSIONS_PER_COMMIT = 20
# What the frame around the items takes in the stand-in history (ident, gap), in seconds.
IDENT_S, GAP_S = 8.0, 1.0
CUT_NOTE = "bị cắt để phát tin khẩn cấp"


@dataclass(frozen=True)
class Candidate:
    """An approved text bulletin the history may air."""

    approved_at: datetime
    bulletin_id: int
    revision_id: int
    revision_number: int
    campaign_code: str
    title: str
    sha256: str
    duration_s: float


def candidates(s: Session, station_id: int) -> list[Candidate]:
    """Approved text bulletins with their render, in approval order."""
    q = (
        select(BulletinRow, RevisionRow, RenderRow)
        .join(RevisionRow, RevisionRow.bulletin_id == BulletinRow.id)
        .join(RenderRow, RenderRow.revision_id == RevisionRow.id)
        .where(BulletinRow.station_id == station_id, BulletinRow.status == BulletinStatus.APPROVED.value)
        .where(RevisionRow.approval == "approved", RevisionRow.source_audio.is_(None))
        .where(RenderRow.kind == "speech")
    )
    out = [
        Candidate(
            rev.approved_at or rev.created_at,
            b.id,
            rev.id,
            rev.number,
            b.campaign.code,
            b.title,
            render.sha256,
            render.duration_s,
        )
        for b, rev, render in s.execute(q)
    ]
    return sorted(out, key=lambda c: (c.approved_at, c.bulletin_id))


def history(app: App, rows: int, year_ago: datetime, now: datetime, rng: random.Random) -> None:
    """A year of past sessions, aired (mostly) as the daemon would have logged them, `rows` rows in all."""
    with app.tx() as s:
        station = stations.find_station(s, STATION)
        domain = stations.station_domain(s, station)
        pool = candidates(s, station.id)
        station_id = station.id
    zone = planning.station_zone(domain)
    occs = [
        o
        for o in planning.occurrences(domain, year_ago.astimezone(zone).date(), now.astimezone(zone).date())
        if o.start >= year_ago and o.end < now - timedelta(minutes=10)
    ]
    per_session = -(-rows // len(occs))
    left = rows
    for first in range(0, len(occs), SESSIONS_PER_COMMIT):
        with app.tx() as s:
            for occ in occs[first : first + SESSIONS_PER_COMMIT]:
                if left <= 0:
                    return
                known = [c for c in pool if c.approved_at < occ.start - timedelta(hours=12)]
                chosen = rng.sample(known[-150:], min(per_session, left, len(known[-150:])))
                left -= _air_session(s, station_id, occ, chosen, rng, min(left, per_session + 1))


def _air_session(
    s: Session,
    station_id: int,
    occ: SessionOccurrence,
    chosen: list[Candidate],
    rng: random.Random,
    room: int,
) -> int:
    """One past session's airings and as-run rows; returns how many rows it logged."""
    start = occ.start
    offsets, at = [], IDENT_S + GAP_S
    for c in chosen:
        offsets.append(at)
        at += c.duration_s + GAP_S
    airings = [
        AiringRow(
            station_id=station_id,
            session_code=occ.session_code,
            planned_start=start,
            bulletin_id=c.bulletin_id,
            revision_id=c.revision_id,
            position=n,
            queued_by=OPERATOR,
            queued_at=start - timedelta(days=1, hours=rng.randrange(1, 48)),
            claim=f"bench-{start:%Y%m%d%H%M}",
            claimed_by="may-dai/1/bench",
            claimed_at=start - timedelta(minutes=5),
            settled_at=start + timedelta(seconds=at + 2),
        )
        for n, c in enumerate(chosen)
    ]
    s.add_all(airings)
    s.flush()
    fate = rng.random()
    late = timedelta(milliseconds=rng.randrange(150, 450))
    cut_at = (
        rng.randrange(1, len(chosen)) if fate > 0.985 and len(chosen) > 1 and room > len(chosen) else None
    )
    entries: list[AsRunEntry] = []
    for n, (c, a, off) in enumerate(zip(chosen, airings, offsets, strict=True)):
        planned = start + timedelta(seconds=off)
        base = AsRunEntry(
            Outcome.MISSED,
            Trigger.SCHEDULE,
            planned_start=planned,
            clip_ms=round(c.duration_s * 1000),
            airing_id=a.id,
            session_code=occ.session_code,
            bulletin_id=c.bulletin_id,
            revision_id=c.revision_id,
            revision_number=c.revision_number,
            campaign_code=c.campaign_code,
            title=c.title,
            sha256=c.sha256,
            queued_by=OPERATOR,
            approved_by="khoi",
        )
        if fate < 0.015:
            entries.append(replace(base, note="trạm phát không chạy vào giờ phát"))
        elif fate < 0.02:
            note = "không dựng được chương trình: thiếu tệp âm thanh"
            entries.append(replace(base, outcome=Outcome.FAILED, note=note))
        elif cut_at is not None and n > cut_at:
            entries.append(replace(base, outcome=Outcome.SKIPPED, note=CUT_NOTE, player="pacat"))
        else:
            heard = c.duration_s / 2 if n == cut_at else c.duration_s
            entries.append(
                replace(
                    base,
                    outcome=Outcome.INTERRUPTED if n == cut_at else Outcome.COMPLETED,
                    actual_start=planned + late,
                    actual_end=planned + late + timedelta(seconds=heard),
                    played_ms=round(heard * 1000),
                    start_error_ms=round(late.total_seconds() * 1000),
                    player="pacat",
                    note=CUT_NOTE if n == cut_at else "",
                )
            )
    for entry in entries:
        airlog.append(s, station_id, entry, recorded_by="daemon", now=start + timedelta(minutes=16))
    if cut_at is not None:
        entries.append(_emergency(s, station_id, chosen[0], start + timedelta(seconds=offsets[cut_at] + 10)))
    return len(entries)


def _emergency(s: Session, station_id: int, c: Candidate, when: datetime) -> AsRunEntry:
    """The emergency that cut a past session: its airing and as-run row."""
    airing = AiringRow(
        station_id=station_id,
        session_code=EMERGENCY_SESSION,
        planned_start=when,
        bulletin_id=c.bulletin_id,
        revision_id=c.revision_id,
        priority=Priority.EMERGENCY.value,
        queued_by=OPERATOR,
        queued_at=when,
        claim="bench-emergency",
        claimed_by="may-dai/1/bench",
        claimed_at=when,
        settled_at=when + timedelta(seconds=c.duration_s + 1),
    )
    s.add(airing)
    s.flush()
    entry = AsRunEntry(
        Outcome.COMPLETED,
        Trigger.EMERGENCY,
        planned_start=when,
        actual_start=when + timedelta(milliseconds=300),
        actual_end=when + timedelta(seconds=c.duration_s, milliseconds=300),
        played_ms=round(c.duration_s * 1000),
        clip_ms=round(c.duration_s * 1000),
        start_error_ms=300,
        priority=Priority.EMERGENCY,
        airing_id=airing.id,
        session_code=EMERGENCY_SESSION,
        bulletin_id=c.bulletin_id,
        revision_id=c.revision_id,
        revision_number=c.revision_number,
        campaign_code=c.campaign_code,
        title=c.title,
        sha256=c.sha256,
        player="pacat",
        queued_by=OPERATOR,
        approved_by="khoi",
    )
    airlog.append(s, station_id, entry, recorded_by="daemon", now=when + timedelta(minutes=1))
    return entry
