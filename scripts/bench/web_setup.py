"""Web bench, the set-up: a home with a year of history (seed station, ~500 bulletins, ~20,000 as-run rows).

Set-up is not what the bench measures; it goes through the services where that is cheap and through the
ORM where bulk matters:
- the seed (schedules/phu-thu-2023.toml) imported through `stations.import_schedule`, with its four
  campaigns' periods moved to cover the bench's year (the seed's own year is 2023; the pages show today);
- text bulletins written, submitted and approved through `services.bulletins`, dated over the year, each
  given a stand-in speech render (a small file and an 18-24 s length: the pages need lengths, not sound);
- short operator recordings (a 1-s tone each, normalised by `media.import_recording`) for the emergencies;
- a year of sessions with their airings and as-run rows (web_history.py: `airlog.append` in batches,
  each commit through the App's session so the signed chain head is written);
- this week's sessions from two hours ahead queued through `queue.queue` (the week view's future).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import subprocess
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from seedpaths import SEED
from sqlalchemy import func, select
from web_history import OPERATOR, STATION, candidates, history

from broadcaster import planning
from broadcaster.app import App, build_app
from broadcaster.config import load_config
from broadcaster.schedules import load_schedule
from broadcaster.services import bulletins, media, queue, stations, web_auth
from broadcaster.store.models import AiringRow, AsRunRow, BulletinRow, RenderRow, RevisionRow

PASSWORD = "mat-khau-thu-nghiem"
TONE_TITLE = "Khẩn cấp thử"
SEED_BULLETINS = 12
# Items queued into each future session of this week (about 5 minutes of a 15-minute session).
FUTURE_ITEMS = 12
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
    history(app, rows, year_ago, now, rng)
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


def _future(app: App, now: datetime, rng: random.Random) -> None:
    """This week's sessions from two hours ahead, each with FUTURE_ITEMS bulletins queued by the operator."""
    with app.tx() as s:
        station = stations.find_station(s, STATION)
        domain = stations.station_domain(s, station)
        zone = planning.station_zone(domain)
        monday, sunday = planning.week_bounds(now.astimezone(zone).date())
        pool = [c for c in candidates(s, station.id) if c.approved_at < now - timedelta(days=2)]
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
