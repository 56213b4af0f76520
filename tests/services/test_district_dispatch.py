"""Bulletins down from the district: sent by a district leader to chosen wards at one of the three levels,
rendered once at the district, fetched by hash and checked at the ward, taken in once; and each ward's
report (and heartbeat) back up. A real PostgreSQL district server under uvicorn and ward "thu" on SQLite."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from district_world import District, env, import_wards
from sqlalchemy import select

from broadcaster import airlog
from broadcaster.app import App, build_app
from broadcaster.config import load_config
from broadcaster.domain import Priority
from broadcaster.errors import InputError
from broadcaster.services import district_dispatch, district_intake, forwarding, media, queue
from broadcaster.services.district_http import HttpDistrict
from broadcaster.services.district_inbox import DISTRICT_ACTOR, InboxParts, take_incoming
from broadcaster.services.district_port import Delivery, DistrictUnreachable, Incoming
from broadcaster.services.stations import find_station, station_domain
from broadcaster.store.models import (
    AiringRow,
    AsRunRow,
    BulletinRow,
    DispatchRow,
    DispatchTargetRow,
    ReceivedDispatchRow,
    RenderRow,
)

pytestmark = pytest.mark.postgres

TEXT = (
    "Ủy ban nhân dân phường thông báo: tối nay, từ 19 giờ đến 21 giờ, lực lượng công an phường phối hợp "
    "với các tổ dân phố ra quân tuyên truyền phòng, chống ma túy; đề nghị bà con đón tiếp, phối hợp."
)


@pytest.fixture
def campaign_end() -> str:
    """A campaign running now and for years (priority bulletins are queued into coming sessions)."""
    return "2099-12-31"


def send(
    district: District,
    level: str,
    wards: Sequence[str] = ("thu",),
    *,
    title: str = "Ra quân tuyên truyền",
    minutes: str = "",
) -> DispatchRow:
    app = district.app
    draft = district_dispatch.DispatchDraft(title, TEXT, level, "ma-tuy-2026", tuple(wards), minutes)
    with app.tx() as s:
        row = district_dispatch.send_dispatch(
            s,
            draft,
            actor="quan",
            speak=app.speak,
            render=lambda spoken: media.render_spoken(spoken, app.renderer, app.media_settings()),
            now=app.clock.now(),
        )
        s.flush()
        s.expunge(row)
    return row


def port(district: District, code: str = "thu") -> HttpDistrict:
    return HttpDistrict(district.url, district.tokens[code], timeout_s=10)


def parts(app: App) -> InboxParts:
    return InboxParts(app.config.media_dir, app)


def targets(district: District) -> dict[int, tuple[str, str]]:
    """dispatch id → (state, note) of ward "thu"."""
    with district.app.tx() as s:
        station = find_station(s, "thu")
        q = select(DispatchTargetRow).where(DispatchTargetRow.station_id == station.id)
        return {t.dispatch_id: (t.state, t.note) for t in s.scalars(q)}


def test_each_level_lands_where_the_level_says(ward: App, district: District) -> None:
    with ward.tx() as s:  # the ward's operator already queued one of its own into the next session
        station = find_station(s, "thu")
        own = s.scalars(select(BulletinRow).where(BulletinRow.station_id == station.id)).first()
    normal, priority, urgent = (send(district, level) for level in ("normal", "priority", "emergency"))
    now = ward.clock.now()
    taken = take_incoming(ward.sessions, "thu", port(district), parts(ward), now=now)
    assert [d.dispatch_id for d in taken] == [urgent.id, normal.id, priority.id]  # the emergency first
    assert {d.dispatch_id: d.state for d in taken} == {
        normal.id: "received",
        priority.id: "queued",
        urgent.id: "on_air",
    }
    assert {k: v[0] for k, v in targets(district).items()} == {
        normal.id: "received",
        priority.id: "queued",
        urgent.id: "on_air",
    }
    with ward.tx() as s:
        station = find_station(s, "thu")
        by_key = {
            b.key: b for b in s.scalars(select(BulletinRow).where(BulletinRow.station_id == station.id))
        }
        for row in (normal, priority, urgent):
            bulletin = by_key[f"huyen-{row.id}"]
            [rev] = bulletin.revisions
            assert bulletin.status == "approved" and rev.approval == "approved"
            assert rev.text == TEXT and rev.spoken_text == row.spoken_text
            assert rev.approved_by is not None and rev.approved_by.startswith("quan")
            render = media.current_render(s, rev)
            assert render is not None and render.sha256 == row.audio_sha256
            assert hashlib.sha256(Path(render.path).read_bytes()).hexdigest() == row.audio_sha256
            assert Path(render.path).read_bytes() == Path(row.audio_path).read_bytes()
        airings = {
            a.bulletin_id: a
            for a in s.scalars(select(AiringRow).where(AiringRow.station_id == station.id))
            if a.cancelled_at is None
        }
        assert by_key[f"huyen-{normal.id}"].id not in airings  # normal: the ward chooses when
        urgent_airing = airings[by_key[f"huyen-{urgent.id}"].id]
        assert urgent_airing.priority == "emergency" and urgent_airing.planned_start == now
        assert urgent_airing.queued_by == DISTRICT_ACTOR
        pri = airings[by_key[f"huyen-{priority.id}"].id]
        assert pri.priority == "priority" and pri.session_code == "sang" and pri.planned_start > now
        assert own is not None
    # The ward's own bulletin queued into the same session afterwards still goes after the priority item.
    with ward.tx() as s:
        station = find_station(s, "thu")
        occ = queue.resolve_occurrence(station_domain(s, station), now, None, None)
        assert occ.start == pri.planned_start
        queue.queue(
            s,
            station,
            station_domain(s, station),
            occ,
            own.id,
            actor="hung",
            now=now,
            lengths=ward.lengths(s, station),
        )
        order = [a.bulletin_id for a in queue.session_airings(s, station.id, occ.start)]
        assert order[0] == by_key[f"huyen-{priority.id}"].id
    again = take_incoming(ward.sessions, "thu", port(district), parts(ward), now=ward.clock.now())
    assert again == []  # reported: nothing comes twice
    with ward.tx() as s:
        assert len(s.scalars(select(ReceivedDispatchRow)).all()) == 3


def test_a_second_priority_item_goes_after_the_first_and_before_the_wards_own(
    ward: App, district: District
) -> None:
    first = send(district, "priority", title="Ưu tiên thứ nhất")
    second = send(district, "priority", title="Ưu tiên thứ hai")
    taken = take_incoming(ward.sessions, "thu", port(district), parts(ward), now=ward.clock.now())
    assert [d.state for d in taken] == ["queued", "queued"]
    assert taken[0].planned_start == taken[1].planned_start
    with ward.tx() as s:
        station = find_station(s, "thu")
        keys = [
            s.get_one(BulletinRow, a.bulletin_id).key
            for a in queue.session_airings(s, station.id, taken[0].planned_start or ward.clock.now())
        ]
    assert keys == [f"huyen-{first.id}", f"huyen-{second.id}"]


def test_an_emergency_reaching_an_offline_ward_after_its_window_is_logged_missed(
    ward: App, district: District
) -> None:
    urgent = send(district, "emergency", minutes="5")
    district.stop()  # the ward is offline: its poll fails and nothing changes
    with pytest.raises(DistrictUnreachable):
        take_incoming(ward.sessions, "thu", port(district), parts(ward), now=ward.clock.now())
    district.start()
    late = ward.clock.now() + timedelta(minutes=12)  # it reconnects after the five minutes
    [done] = take_incoming(ward.sessions, "thu", port(district), parts(ward), now=late)
    assert done.state == "missed" and "không phát" in done.note
    assert targets(district)[urgent.id] == ("missed", done.note)
    with ward.tx() as s:
        station = find_station(s, "thu")
        assert s.scalars(select(AiringRow).where(AiringRow.station_id == station.id)).all() == []
        [row] = s.scalars(select(AsRunRow).where(AsRunRow.station_id == station.id)).all()
        assert (row.outcome, row.trigger, row.priority) == ("missed", "emergency", "emergency")
        assert row.note == done.note and row.sha256 == urgent.audio_sha256
        assert airlog.verify(s, station.id).ok
    # The missed row goes up with the log like any other.
    up = forwarding.sync_up(ward.sessions, "thu", port(district), ward.witness, now=late)
    assert up.complete and up.rows == 1


def test_an_emergency_within_its_window_airs_when_the_ward_reconnects(ward: App, district: District) -> None:
    urgent = send(district, "emergency", minutes="30")
    district.stop()
    with pytest.raises(DistrictUnreachable):
        take_incoming(ward.sessions, "thu", port(district), parts(ward), now=ward.clock.now())
    district.start()
    later = ward.clock.now() + timedelta(minutes=10)
    [done] = take_incoming(ward.sessions, "thu", port(district), parts(ward), now=later)
    assert done.state == "on_air" and done.planned_start == later
    assert targets(district)[urgent.id][0] == "on_air"


def test_a_token_of_one_ward_cannot_read_or_answer_for_another(ward: App, district: District) -> None:
    theirs = send(district, "normal", wards=("hai",))
    assert port(district).inbox("thu") == []  # addressed to "hai" only
    assert len(port(district, "hai").inbox("hai")) == 1
    with pytest.raises(DistrictUnreachable):
        port(district).inbox("hai")  # thu's token asking for hai's bulletins
    with pytest.raises(DistrictUnreachable):
        port(district).audio(theirs.audio_sha256)  # nor its audio, even knowing the hash
    answer = requests.get(
        f"{district.url}/api/district/audio/{theirs.audio_sha256}",
        headers={"Authorization": f"Bearer {district.tokens['thu']}"},
        timeout=10,
    )
    assert answer.status_code == 404
    port(district).report("thu", [Delivery(theirs.id, "received")])  # not its own: nothing changes
    with district.app.tx() as s:
        [target] = s.scalars(select(DispatchTargetRow).where(DispatchTargetRow.dispatch_id == theirs.id))
        assert target.state == "sent"
    with pytest.raises(DistrictUnreachable):
        port(district).report("hai", [Delivery(theirs.id, "received")])


@dataclass
class Tampered:
    """The real district, except that the audio arrives damaged in transit."""

    real: HttpDistrict

    @property
    def url(self) -> str:
        return self.real.url

    def inbox(self, station_code: str) -> list[Incoming]:
        return self.real.inbox(station_code)

    def audio(self, sha256: str) -> bytes:
        data = bytearray(self.real.audio(sha256))
        data[len(data) // 2] ^= 0xFF
        return bytes(data)

    def report(self, station_code: str, deliveries: Sequence[Delivery]) -> None:
        self.real.report(station_code, deliveries)

    def head(self, station_code: str) -> forwarding.DistrictHead:
        return self.real.head(station_code)

    def push(
        self, station_code: str, links: Sequence[airlog.ChainLink], signed: dict[str, Any] | None
    ) -> Any:
        return self.real.push(station_code, links, signed)

    def heartbeat(self, station_code: str, beat: dict[str, Any]) -> None:
        self.real.heartbeat(station_code, beat)


def test_audio_that_does_not_match_its_hash_is_not_taken_in(ward: App, district: District) -> None:
    row = send(district, "normal")
    with pytest.raises(DistrictUnreachable) as refused:
        take_incoming(ward.sessions, "thu", Tampered(port(district)), parts(ward), now=ward.clock.now())
    assert "không khớp mã băm" in refused.value.message
    with ward.tx() as s:
        assert s.scalars(select(ReceivedDispatchRow)).all() == []
        assert s.scalars(select(RenderRow).where(RenderRow.settings_key == "Máy chủ huyện")).all() == []
    assert not list((ward.config.media_dir / "district").rglob("*.*"))
    assert targets(district)[row.id][0] == "sent"  # the district still waits; the next poll fetches again
    [done] = take_incoming(ward.sessions, "thu", port(district), parts(ward), now=ward.clock.now())
    assert done.state == "received"


def test_a_campaign_the_ward_lacks_comes_down_with_its_targets(ward: App, district: District) -> None:
    with district.app.tx() as s:
        from broadcaster.store.models import CampaignRow, TargetRow

        for code in ("thu", "hai"):
            station = find_station(s, code)
            c = CampaignRow(
                station_id=station.id,
                code="hiv-2027",
                title="Phòng, chống HIV/AIDS năm 2027",
                plan_ref="Kế hoạch số 3/KH-UBND huyện",
                period_start=ward.clock.now().date(),
                period_end=ward.clock.now().date() + timedelta(days=400),
                topics=[],
                agencies=[],
                integrates=[],
            )
            s.add(c)
            s.flush()
            s.add(TargetRow(campaign_id=c.id, min_airings_per_month=8, max_gap_days=10))
    app = district.app
    draft = district_dispatch.DispatchDraft("HIV", TEXT, "normal", "hiv-2027", ("thu",))
    with app.tx() as s:
        district_dispatch.send_dispatch(
            s,
            draft,
            actor="quan",
            speak=app.speak,
            render=lambda t: media.render_spoken(t, app.renderer, app.media_settings()),
            now=app.clock.now(),
        )
    take_incoming(ward.sessions, "thu", port(district), parts(ward), now=ward.clock.now())
    with ward.tx() as s:
        from broadcaster.services.stations import campaigns_domain

        found = {c.code: c for c in campaigns_domain(s, find_station(s, "thu").id)}
    assert found["hiv-2027"].title == "Phòng, chống HIV/AIDS năm 2027"
    assert found["hiv-2027"].target.min_airings_per_month == 8 and found["hiv-2027"].target.max_gap_days == 10


@pytest.mark.parametrize(
    ("field", "draft"),
    [
        ("title", district_dispatch.DispatchDraft(" ", TEXT, "normal", "ma-tuy-2026", ("thu",))),
        ("text", district_dispatch.DispatchDraft("Tin", "  ", "normal", "ma-tuy-2026", ("thu",))),
        ("level", district_dispatch.DispatchDraft("Tin", TEXT, "gấp", "ma-tuy-2026", ("thu",))),
        ("wards", district_dispatch.DispatchDraft("Tin", TEXT, "normal", "ma-tuy-2026", ())),
        ("wards", district_dispatch.DispatchDraft("Tin", TEXT, "normal", "ma-tuy-2026", ("khong-co",))),
        ("campaign", district_dispatch.DispatchDraft("Tin", TEXT, "normal", "khong-co", ("thu",))),
        (
            "valid_minutes",
            district_dispatch.DispatchDraft("Tin", TEXT, "emergency", "ma-tuy-2026", ("thu",), "2"),
        ),
    ],
)
def test_a_bad_draft_names_its_field_and_stores_nothing(
    district: District, field: str, draft: district_dispatch.DispatchDraft
) -> None:
    app = district.app
    rendered: list[str] = []
    with pytest.raises(InputError) as bad, app.tx() as s:
        district_dispatch.send_dispatch(
            s,
            draft,
            actor="quan",
            speak=app.speak,
            render=lambda t: rendered.append(t) or (None,) * 7,  # type: ignore[func-returns-value,return-value]
            now=app.clock.now(),
        )
    assert bad.value.field == field and rendered == []
    with app.tx() as s:
        assert s.scalars(select(DispatchRow)).all() == []


def test_a_running_station_airs_a_district_emergency_within_seconds_and_reports_its_health(
    district: District, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "thu-live"
    env(monkeypatch, home)
    monkeypatch.setenv("BROADCASTER_DISTRICT_POLL_S", "1")
    monkeypatch.setenv("BROADCASTER_DISTRICT_SYNC_S", "5")
    app = build_app(load_config())
    app.init()
    import_wards(app, home, ("thu",), "2099-12-31")
    forwarding.save_link(home, district.url, district.tokens["thu"])
    with app.tx() as s:
        station = find_station(s, "thu")
        s.expunge(station)
    daemon = app.daemon(station, outside_hours_ok=True, resync_s=0.5)
    daemon.start()
    try:
        time.sleep(1.5)
        urgent = send(district, "emergency", minutes="10")
        deadline = time.monotonic() + 60
        while True:
            with app.tx() as s:
                row = s.scalar(select(AsRunRow).where(AsRunRow.priority == Priority.EMERGENCY.value))
                if row is not None:
                    s.expunge(row)
                    break
            assert time.monotonic() < deadline, "the district emergency never aired"
            time.sleep(0.2)
        assert daemon.wait_idle(60)
        deadline = time.monotonic() + 30
        while not (beat := _beat(district)) or not beat[0].get("last_aired_at"):
            assert time.monotonic() < deadline, "no heartbeat after the airing reached the district"
            time.sleep(0.5)
    finally:
        daemon.stop()
        app.engine.dispose()
    assert row.outcome == "completed" and row.trigger == "emergency" and row.sha256 == urgent.audio_sha256
    assert row.actual_start is not None
    delay = (row.actual_start - urgent.created_at).total_seconds()
    assert 0 < delay < 8, f"the emergency aired {delay:.1f} s after the district sent it"
    beat, at = beat
    assert beat["daemon"] in ("idle", "on_air") and isinstance(beat["disk_free_mb"], int)
    assert beat["queued"] == 0 and at is not None
    with district.app.tx() as s:
        [view] = [w for w in district_intake.wards_overview(s, actor="quan", now=at) if w.code == "thu"]
        assert view.online and view.heartbeat == beat and view.rows >= 1


def _beat(district: District) -> tuple[dict[str, Any], Any] | None:
    from broadcaster.store.models import ForwardStateRow

    with district.app.tx() as s:
        state = s.get(ForwardStateRow, find_station(s, "thu").id)
        if state is None or state.heartbeat is None:
            return None
        return dict(state.heartbeat), state.heartbeat_at
