"""A station day for the console's tests: a fake clock on Monday 17/04/2023 at 06:05 in Hà Nội, airings
queued into that day's sessions, as-run history written through airlog, and the daemon's heartbeat row."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from broadcaster import airlog, planning
from broadcaster.app import App
from broadcaster.clock import FakeClock
from broadcaster.domain import AsRunEntry, BulletinStatus, Outcome, Trigger
from broadcaster.services import bulletins, queue, stations
from broadcaster.store.models import AiringRow, DaemonLeaseRow, RenderRow, RevisionRow

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
TODAY = datetime(2023, 4, 17, tzinfo=ZONE).date()  # a Monday
NOW = datetime(2023, 4, 17, 6, 5, tzinfo=ZONE)
CAMPAIGN = "mai-dam-2023"
SHAPE = planning.ProgrammeShape(gap_s=1.0)


def at(day_offset: int, hhmm: str) -> datetime:
    """A local day (relative to TODAY) and time as a UTC instant."""
    return planning.to_utc(ZONE, TODAY + timedelta(days=day_offset), time.fromisoformat(hhmm))


def use_fake_clock(app: App) -> FakeClock:
    """Drive the App (and every console built on it) with a clock stopped at NOW."""
    clock = FakeClock(NOW)
    app.clock = clock
    return clock


def approved_ids(app: App) -> list[int]:
    """The seed's approved bulletins, by id."""
    with app.tx() as s:
        row = stations.find_station(s, "phu-thu")
        return [b.id for b in bulletins.list_bulletins(s, row.id, status=BulletinStatus.APPROVED.value)]


def queue_today(app: App, ids: list[int]) -> dict[str, list[int]]:
    """Two bulletins into this morning's 06:00 session and one into 17:00; airing ids by session."""
    out: dict[str, list[int]] = {"sang": [], "chieu": []}
    with app.tx() as s:
        row = stations.find_station(s, "phu-thu")
        domain = stations.station_domain(s, row)
        for code, hhmm, chosen in (("sang", "06:00", ids[:2]), ("chieu", "17:00", ids[2:3])):
            occ = planning.find_occurrence(domain, TODAY, time.fromisoformat(hhmm))
            for bulletin_id in chosen:
                airing = queue.queue(
                    s,
                    row,
                    domain,
                    occ,
                    bulletin_id,
                    actor="hung",
                    now=NOW - timedelta(days=1),
                    lengths=queue.Lengths(SHAPE, lambda _rev: 60.0),
                )
                out[code].append(airing.id)
    return out


def give_audio(app: App, airing_id: int, folder: Path, seconds: float = 65.0) -> None:
    """A speech render with a real file for the airing's revision (the dashboard then sees its audio)."""
    folder.mkdir(parents=True, exist_ok=True)
    with app.tx() as s:
        airing = s.get_one(AiringRow, airing_id)
        revision = s.get_one(RevisionRow, airing.revision_id)
        path = folder / f"rev-{revision.id}.mp3"
        path.write_bytes(b"ID3 not really audio")
        s.add(
            RenderRow(
                revision_id=revision.id,
                kind="speech",
                path=str(path),
                sha256="0" * 64,
                duration_s=seconds,
                engine="espeak",
                spoken_sha256=revision.spoken_sha256,
                created_at=NOW - timedelta(days=1),
            )
        )


def log_row(
    app: App,
    start: datetime,
    outcome: Outcome = Outcome.COMPLETED,
    *,
    title: str = "Bản tin cũ",
    campaign: str | None = CAMPAIGN,
    note: str = "",
    trigger: Trigger = Trigger.SCHEDULE,
    airing_id: int | None = None,
    played_s: float = 60.0,
) -> int:
    """One as-run row written as the daemon writes it (each commit signs the new head)."""
    aired = outcome in (Outcome.COMPLETED, Outcome.INTERRUPTED)
    entry = AsRunEntry(
        outcome,
        trigger,
        planned_start=start,
        actual_start=start + timedelta(milliseconds=250) if aired else None,
        actual_end=start + timedelta(seconds=played_s, milliseconds=250) if aired else None,
        played_ms=round(played_s * 1000) if aired else 0,
        clip_ms=60_000,
        campaign_code=campaign,
        title=title,
        note=note,
        airing_id=airing_id,
        session_code="sang",
        queued_by="hung",
        approved_by="khoi",
    )
    with app.tx() as s:
        row = stations.find_station(s, "phu-thu")
        return airlog.append(s, row.id, entry, recorded_by="daemon", now=start + timedelta(minutes=5)).id


def heartbeat(
    app: App,
    *,
    state: str = "on_air",
    seconds_ago: float = 5.0,
    ttl_s: float = 15.0,
    on_air_start: datetime | None = None,
    backlog: int = 0,
) -> None:
    """The daemon's lease row as its heartbeat leaves it `seconds_ago` before NOW."""
    beat = NOW.astimezone(UTC) - timedelta(seconds=seconds_ago)
    with app.tx() as s:
        row = stations.find_station(s, "phu-thu")
        lease = s.get(DaemonLeaseRow, row.id) or DaemonLeaseRow(station_id=row.id)
        lease.holder, lease.host, lease.pid, lease.home = "test-holder", "may-dai", 4242, "/srv/dai"
        lease.started_at, lease.heartbeat_at = beat - timedelta(hours=1), beat
        lease.expires_at = beat + timedelta(seconds=ttl_s)
        lease.state, lease.on_air_start, lease.backlog = state, on_air_start, backlog
        s.add(lease)
