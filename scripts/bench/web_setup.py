"""Web bench, the set-up: a home with a year of history (seed station, ~500 bulletins, ~20,000 as-run rows).

Set-up is not what the bench measures; it goes through the services where that is cheap and through the
ORM where bulk matters:
- the seed (schedules/phu-thu-2023.toml) imported through `stations.import_schedule`, with its four
  campaigns' periods moved to cover the bench's year (the seed's own year is 2023; the pages show today);
- text bulletins written, submitted and approved through `services.bulletins`, dated over the year, each
  given a stand-in speech render (a small file and an 18-24 s length: the pages need lengths, not sound);
- short operator recordings (a 1-s tone each, normalised by `media.import_recording`) for the emergencies;
- a year of sessions (06:00 and 17:00, Monday to Saturday): each one's airings as the daemon leaves them
  (claimed, settled; ORM bulk) and their as-run rows appended with `airlog.append` in batches, each commit
  through the App's session so the signed chain head is written; mostly completed, a few sessions missed,
  failed, or cut by an emergency (whose own row is logged too);
- this week's sessions from two hours ahead queued through `queue.queue` (the week view's future).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import subprocess
import time
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

from seedpaths import SEED
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from broadcaster import airlog, planning
from broadcaster.app import App, build_app
from broadcaster.config import load_config
from broadcaster.domain import (
    EMERGENCY_SESSION,
    AsRunEntry,
    BulletinStatus,
    Outcome,
    Priority,
    SessionOccurrence,
    Trigger,
)
from broadcaster.schedules import load_schedule
from broadcaster.services import bulletins, media, queue, stations, web_auth
from broadcaster.store.models import AiringRow, AsRunRow, BulletinRow, RenderRow, RevisionRow

PASSWORD = "mat-khau-thu-nghiem"
OPERATOR = "hung"
STATION = "phu-thu"
TONE_TITLE = "Khẩn cấp thử"
SEED_BULLETINS = 12
# Past sessions are committed this many at a time (each commit signs the chain head once).
SESSIONS_PER_COMMIT = 20
# Items queued into each future session of this week (about 5 minutes of a 15-minute session).
FUTURE_ITEMS = 12
# What the frame around the items takes in the stand-in history (ident, closing), in seconds.
IDENT_S, GAP_S = 8.0, 1.0
CUT_NOTE = "bị cắt để phát tin khẩn cấp"
MARKER = "bench.json"


@dataclass(frozen=True)
class Built:
    """What the bench needs to know about the home it built (or found)."""

    home: Path
    bulletins: int
    asrun_rows: int
    airings: int
    emergency_ids: list[int]
    seconds: float


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


def bench_env(home: Path) -> dict[str, str]:
    """Environment of every process of the bench: this home, the offline voice, no signature tune."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BROADCASTER_")}
    env |= {
        "BROADCASTER_HOME": str(home),
        "BROADCASTER_SPEECH_ENGINES": "espeak",
        "BROADCASTER_PROGRAMME_USE_SIGNATURE": "0",
        "BROADCASTER_PLAYOUT_PLAYER": "file",
    }
    return env


def open_app(home: Path) -> App:
    """The App of the bench's home, built in this process with the bench's environment."""
    for name in [n for n in os.environ if n.startswith("BROADCASTER_")]:
        del os.environ[name]
    os.environ.update({k: v for k, v in bench_env(home).items() if k.startswith("BROADCASTER_")})
    return build_app(load_config())


def ensure_home(home: Path, *, rows: int, total_bulletins: int, tones: int) -> Built:
    """The home at `home`: reused when a previous run finished building it, else built now."""
    marker = home / MARKER
    if marker.is_file():
        data = json.loads(marker.read_text(encoding="utf-8"))
        return Built(home, data["bulletins"], data["asrun_rows"], data["airings"], data["emergency"], 0.0)
    began = time.perf_counter()
    app = open_app(home)
    app.init()
    now = app.clock.now()
    year_ago = now - timedelta(days=365)
    _import_seed(app, year_ago, now)
    _text_bulletins(app, total_bulletins - SEED_BULLETINS - tones, year_ago, now)
    emergency = _tone_bulletins(app, tones, now - timedelta(days=1))
    _stand_in_renders(app, now)
    with app.tx() as s:
        app.programme_shape(s, stations.find_station(s, STATION))  # ident, closing: espeak, once
        web_auth.set_password(s, OPERATOR, PASSWORD, actor=OPERATOR, now=now)
    rng = random.Random(12)
    _history(app, rows, year_ago, now, rng)
    _future(app, now, rng)
    with app.tx() as s:
        count_b = s.scalar(select(func.count(BulletinRow.id))) or 0
        count_r = s.scalar(select(func.count(AsRunRow.id))) or 0
        count_a = s.scalar(select(func.count(AiringRow.id))) or 0
    app.engine.dispose()
    info = {"bulletins": count_b, "asrun_rows": count_r, "airings": count_a, "emergency": emergency}
    marker.write_text(json.dumps(info), encoding="utf-8")
    return Built(home, count_b, count_r, count_a, emergency, time.perf_counter() - began)


def _import_seed(app: App, year_ago: datetime, now: datetime) -> None:
    """The seed station, its campaigns running from before the bench's year to half a year ahead."""
    text = SEED.read_text(encoding="utf-8")
    first = (year_ago - timedelta(days=7)).date().isoformat()
    last = (now + timedelta(days=180)).date().isoformat()
    text = text.replace("period_start = 2023-03-16", f"period_start = {first}")
    text = text.replace("period_end = 2023-12-31", f"period_end = {last}")
    path = app.config.home / "phu-thu-nam-thu.toml"
    path.write_text(text, encoding="utf-8")
    with app.tx() as s:
        stations.import_schedule(
            s, load_schedule(path), actor="bench", now=year_ago - timedelta(days=1), speak=app.speak
        )


def _text_bulletins(app: App, count: int, year_ago: datetime, now: datetime) -> None:
    """`count` text bulletins after the seed's, each written, submitted and approved on its own day."""
    with app.tx() as s:
        row = stations.find_station(s, STATION)
        seed = [
            (b.title, b.campaign.code, b.agency, bulletins.latest_revision(b).text)
            for b in bulletins.list_bulletins(s, row.id)
        ]
        station_id = row.id
    span = (now - timedelta(days=3)) - year_ago
    batch = 50
    for first in range(0, count, batch):
        with app.tx() as s:
            for n in range(first, min(first + batch, count)):
                title, campaign, agency, body = seed[n % len(seed)]
                # The first 40 are there from the start of the year; the others come over it.
                day = year_ago if n < 40 else year_ago + span * ((n - 40) / max(1, count - 40))
                text = f"Bản tin số {n + 1} ngày {day:%d/%m/%Y}.\n\n{body}"
                made = bulletins.add(
                    s,
                    station_id=station_id,
                    campaign_code=campaign,
                    title=f"{title} (bản {n // len(seed) + 2})",
                    agency=agency,
                    text=text,
                    actor="lan",
                    now=day,
                    speak=app.speak,
                )
                bulletins.submit(s, made.id, actor="lan", now=day + timedelta(hours=1))
                bulletins.approve(s, made.id, actor="khoi", now=day + timedelta(hours=3))


def _tone(path: Path, frequency: int) -> None:
    """A 1-s tone, loud from its first sample (a sharp onset at the sink)."""
    argv = ["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi"]
    argv += ["-i", f"sine=frequency={frequency}:duration=1", "-ar", "48000", "-ac", "1", str(path)]
    subprocess.run(argv, check=True, timeout=60)


def _tone_bulletins(app: App, count: int, when: datetime) -> list[int]:
    """`count` approved operator recordings of a short tone; their bulletin ids."""
    clips = app.config.home.parent / "clips"
    clips.mkdir(parents=True, exist_ok=True)
    settings, max_s = app.media_settings(), app.config.audio.max_recording_minutes * 60
    made = []
    for n in range(count):
        clip = clips / f"tone-{n:02d}.wav"
        _tone(clip, 600 + 40 * n)
        with media.import_recording(clip, settings, max_duration_s=max_s) as rec, app.tx() as s:
            row = bulletins.add(
                s,
                station_id=stations.find_station(s, STATION).id,
                campaign_code="mai-dam-2023",
                title=f"{TONE_TITLE} {n + 1:02d}",
                agency="Đài truyền thanh",
                text=f"Bản ghi âm thử số {n + 1}: một tiếng bíp ngắn.",
                actor="lan",
                now=when,
                speak=app.speak,
                recording=rec,
            )
            made.append(row.id)
    with app.tx() as s:
        for bulletin_id in made:
            bulletins.submit(s, bulletin_id, actor="lan", now=when)
            bulletins.approve(s, bulletin_id, actor="khoi", now=when)
    return made


def _stand_in_renders(app: App, now: datetime) -> None:
    """A small file and an 18-24 s length as the speech render of every approved text revision."""
    folder = app.config.media_dir / "bench-stand-in"
    folder.mkdir(parents=True, exist_ok=True)
    with app.tx() as s:
        revisions = s.scalars(
            select(RevisionRow).where(RevisionRow.approval == "approved", RevisionRow.source_audio.is_(None))
        )
        for rev in revisions:
            path = folder / f"rev-{rev.id}.mp3"
            path.write_bytes(f"stand-in audio of revision {rev.id}".encode())
            s.add(
                RenderRow(
                    revision_id=rev.id,
                    kind="speech",
                    path=str(path),
                    sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
                    duration_s=18.0 + (rev.id * 7919 % 61) / 10,
                    engine="espeak",
                    spoken_sha256=rev.spoken_sha256,
                    created_at=now,
                )
            )


def _candidates(s: Session, station_id: int) -> list[Candidate]:
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


def _history(app: App, rows: int, year_ago: datetime, now: datetime, rng: random.Random) -> None:
    """A year of past sessions, aired (mostly) as the daemon would have logged them, `rows` rows in all."""
    with app.tx() as s:
        station = stations.find_station(s, STATION)
        domain = stations.station_domain(s, station)
        pool = _candidates(s, station.id)
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


def _future(app: App, now: datetime, rng: random.Random) -> None:
    """This week's sessions from two hours ahead, each with FUTURE_ITEMS bulletins queued by the operator."""
    with app.tx() as s:
        station = stations.find_station(s, STATION)
        domain = stations.station_domain(s, station)
        zone = planning.station_zone(domain)
        monday, sunday = planning.week_bounds(now.astimezone(zone).date())
        pool = [c for c in _candidates(s, station.id) if c.approved_at < now - timedelta(days=2)]
        lengths = {c.revision_id: c.duration_s for c in pool}
        plan_lengths = queue.Lengths(app.programme_shape(s, station), lambda rev: lengths[rev.id])
        for occ in planning.occurrences(domain, monday, sunday):
            if occ.start < now + timedelta(hours=2):
                continue
            for c in rng.sample(pool[-150:], FUTURE_ITEMS):
                queue.queue(
                    s,
                    station,
                    domain,
                    occ,
                    c.bulletin_id,
                    actor=OPERATOR,
                    now=now,
                    lengths=plan_lengths,
                )
