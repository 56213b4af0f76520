"""Soak bench, concurrent queueing: another process queues and unqueues extra airings while the daemon runs.

Run by soak.py as `python soak_queuer.py PLAN.json LOG.jsonl` with the bench's environment. Through the
services, as the operator's commands do: it puts extra bulletins into the free slots of the plan, adds
a second item to a programme already planned (and maybe already prepared and claimed by the daemon),
and takes some of its own airings out again, a few seconds before their time. Each action is one line
of LOG.jsonl; the database is the truth the bench compares against.
"""

from __future__ import annotations

import json
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from broadcaster.app import App, build_app
from broadcaster.config import load_config
from broadcaster.domain import SessionOccurrence
from broadcaster.errors import BroadcasterError
from broadcaster.services import queue, stations


def _at(epoch: float) -> datetime:
    return datetime.fromtimestamp(round(epoch, 3), UTC)


def queue_one(app: App, bulletin_id: int, start: float, code: str) -> int:
    """Queue one bulletin into the occurrence `code` at `start` (an extra session, 15 minutes long)."""
    with app.tx() as s:
        row = stations.find_station(s, None)
        occ = SessionOccurrence(code, "Buổi thử độ bền", _at(start), timedelta(minutes=15))
        return queue.queue(
            s,
            row,
            stations.station_domain(s, row),
            occ,
            bulletin_id,
            actor="hung",
            now=app.clock.now(),
            lengths=app.lengths(s, row),
        ).id


def main(plan_path: Path, log_path: Path) -> None:
    """Queue, append and unqueue until the plan's end time."""
    plan: dict[str, Any] = json.loads(plan_path.read_text())
    rng = random.Random(plan["seed"])
    free: list[float] = sorted(plan["free"])
    pairs: list[tuple[float, float]] = [(a, b) for a, b in plan["appendable"]]
    pool: list[int] = list(plan["bulletins"])
    mine: list[tuple[int, float]] = []
    app = build_app(load_config())
    with log_path.open("a", encoding="utf-8") as log:

        def note(**fields: Any) -> None:
            log.write(json.dumps({"t": time.time(), **fields}, ensure_ascii=False) + "\n")
            log.flush()

        while time.time() < plan["until"] and pool:
            time.sleep(rng.uniform(2, 8))
            now = time.time()
            pick = rng.random()
            try:
                if pick < 0.5:
                    slot = next((f for f in free if f >= now + rng.uniform(3, 40)), None)
                    if slot is None:
                        continue
                    free.remove(slot)
                    bulletin = pool.pop()
                    airing = queue_one(app, bulletin, slot, plan["extra_code"])
                    mine.append((airing, slot))
                    note(action="queue", airing=airing, bulletin=bulletin, start=slot)
                elif pick < 0.75:
                    soon = now + rng.uniform(4, 40)
                    pair = next((p for p in pairs if p[0] >= soon and p[1] in free), None)
                    if pair is None:
                        continue
                    free.remove(pair[1])  # the longer programme runs into it
                    bulletin = pool.pop()
                    airing = queue_one(app, bulletin, pair[0], plan["main_code"])
                    mine.append((airing, pair[0]))
                    note(action="append", airing=airing, bulletin=bulletin, start=pair[0])
                else:
                    aim = now + rng.uniform(0.5, 10)
                    ahead = [m for m in mine if m[1] > now + 0.5]
                    if not ahead:
                        continue
                    airing, start = min(ahead, key=lambda m: abs(m[1] - aim))
                    mine.remove((airing, start))
                    with app.tx() as s:
                        queue.unqueue(s, airing, actor="hung", now=app.clock.now())
                    note(action="unqueue", airing=airing, start=start, ahead_s=round(start - time.time(), 2))
            except BroadcasterError as exc:
                note(action="refused", error=exc.one_line())
    app.engine.dispose()


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
