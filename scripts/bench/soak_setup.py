"""Soak bench, the set-up: the bench's daemon environment, a station, approved code recordings, the plan.

Set-up goes through the services in-process (it is not what the bench measures): the station file is
imported, each code clip becomes an operator recording (bulletin add with audio, submit, approve), and
each airing is queued into its own extra session of one programme, `spacing` seconds apart.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from soak_queuer import queue_one
from soak_sink import write_code_clip

from broadcaster.app import App, build_app
from broadcaster.config import load_config
from broadcaster.schedules import load_schedule
from broadcaster.services import bulletins, media, stations

MAIN_CODE, EXTRA_CODE = "soak", "soak-them"
STATION_TOML = """
[station]
code = "thu"
name = "Đài thử độ bền"
timezone = "Asia/Ho_Chi_Minh"
ident = "Đài thử."
allowed_hours = ["00:00-24:00"]

[[session]]
code = "sang"
name = "Buổi sáng"
weekdays = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
start = "06:00"
max_minutes = 15

[[campaign]]
code = "thu-nghiem"
title = "Chiến dịch thử"
plan_ref = "Kế hoạch thử"
period_start = 2026-01-01
period_end = 2035-12-31
topics = ["Thử"]

[[user]]
name = "lan"
full_name = "Nguyễn Thị Lan"
role = "officer"

[[user]]
name = "khoi"
full_name = "Vũ Văn Khôi"
role = "leader"

[[user]]
name = "hung"
full_name = "Phạm Văn Hùng"
role = "operator"
"""


def bench_env(home: Path, sink: str, args: argparse.Namespace) -> dict[str, str]:
    """The daemon's environment: this home, the sink, a short lead and grace, fast re-syncs."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BROADCASTER_")}
    env |= {
        "BROADCASTER_HOME": str(home),
        "BROADCASTER_SPEECH_ENGINES": "espeak",
        "BROADCASTER_PLAYOUT_PLAYER": "pacat",
        "BROADCASTER_PLAYOUT_DEVICE": sink,
        "BROADCASTER_PROGRAMME_USE_SIGNATURE": "0",
        "BROADCASTER_PROGRAMME_CLOSING": "",
        "BROADCASTER_PROGRAMME_GAP_S": "0.3",
        "BROADCASTER_PLAYOUT_LEAD_MINUTES": f"{args.lead / 60:.4f}",
        "BROADCASTER_PLAYOUT_GRACE_S": f"{args.grace:g}",
        "BROADCASTER_PLAYOUT_RESYNC_S": f"{args.resync:g}",
    }
    if args.busy_timeout:
        env["BROADCASTER_DATABASE_URL"] = f"sqlite:///{home / 'broadcaster.db'}?timeout={args.busy_timeout:g}"
    return env


def set_up(home: Path, count: int) -> tuple[App, list[int], dict[int, int]]:
    """Initialise the home and import the station; `count` approved recordings, one code each."""
    app = build_app(load_config())
    app.init()
    toml = home / "soak.toml"
    toml.write_text(STATION_TOML, encoding="utf-8")
    with app.tx() as s:
        stations.import_schedule(s, load_schedule(toml), actor="soak", now=app.clock.now(), speak=app.speak)
        station_id = stations.find_station(s, None).id
    clips = home.parent / "clips"
    clips.mkdir(exist_ok=True)
    settings, max_s = app.media_settings(), app.config.audio.max_recording_minutes * 60

    def add(code: int) -> tuple[int, int]:
        clip = clips / f"code-{code:04d}.wav"
        write_code_clip(code, clip)
        with media.import_recording(clip, settings, max_duration_s=max_s) as rec, app.tx() as s:
            row = bulletins.add(
                s,
                station_id=station_id,
                campaign_code="thu-nghiem",
                title=f"Mã thử {code:04d}",
                agency="Đài thử",
                text=f"Bản ghi âm: mã thử {code:04d}",
                actor="lan",
                now=app.clock.now(),
                speak=app.speak,
                recording=rec,
            )
            return row.id, code

    with ThreadPoolExecutor(2) as pool:  # ffmpeg normalises each clip: two at a time on two cores
        made = dict(pool.map(add, range(count)))
    with app.tx() as s:
        for bulletin_id in made:
            bulletins.submit(s, bulletin_id, actor="lan", now=app.clock.now())
            bulletins.approve(s, bulletin_id, actor="khoi", now=app.clock.now())
    return app, sorted(made), made


def queue_plan(app: App, main: list[int], spacing: float, free_every: int) -> tuple[list[float], list[float]]:
    """Queue one bulletin per slot from shortly after now; returns the slots' starts and the free ones."""
    slots = len(main) + (len(main) // (free_every - 1) if free_every else 0)
    began = time.time()
    first = began + 10 + 0.1 * slots  # time to queue them all before the first is due (a loaded machine)
    starts = [round(first + k * spacing, 3) for k in range(slots)]
    free = [t for k, t in enumerate(starts) if free_every and k % free_every == free_every - 1]
    taken = [t for t in starts if t not in set(free)]
    for bulletin_id, start in zip(main, taken, strict=False):
        queue_one(app, bulletin_id, start, MAIN_CODE)
    late = time.time() - (first - 3)
    if late > 0:
        print(f"  (queueing took {time.time() - began:.0f} s: the first airings had {late:.1f} s less lead)")
    return starts, free


def code_fingerprint() -> str:
    """A short hash of the package's sources: the daemon each restart loads may change during a run."""
    package = Path(__file__).resolve().parents[2] / "broadcaster"
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]
