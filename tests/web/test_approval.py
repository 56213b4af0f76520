"""Duyệt tin: who sees the queue, approving exactly the spoken text shown (and its audio), returning."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from conftest import Browser
from sqlalchemy import select

from broadcaster.app import App
from broadcaster.files import file_sha256
from broadcaster.services import bulletins, media
from broadcaster.services.stations import find_station
from broadcaster.store.models import AuditRow

TEXT = "UBND phường tuyên truyền phòng, chống ma túy lúc 17h30 ngày 26/6/2023."
People = Callable[[str | None], Browser]


def _submitted(app: App, text: str = TEXT, title: str = "Tin chờ duyệt") -> int:
    now = app.clock.now()
    with app.tx() as s:
        row = bulletins.add(
            s,
            station_id=find_station(s, None).id,
            campaign_code="ma-tuy-2023",
            title=title,
            agency="",
            text=text,
            actor="lan",
            now=now,
            speak=app.speak,
        )
        bulletins.submit(s, row.id, actor="lan", now=now)
        return row.id


def _latest(app: App, bulletin_id: int) -> tuple[str, str, str | None, str | None]:
    """Status, approval, approver and approved hash of the latest revision (read through the services)."""
    with app.tx() as s:
        row = bulletins.get(s, bulletin_id)
        rev = bulletins.latest_revision(row)
        return row.status, rev.approval, rev.approved_by, rev.approved_sha256


def _denied(people: People, roles: tuple[str, ...], method: str, url: str, data: dict[str, object]) -> None:
    out = people(None)
    answer = (
        out.get(url, follow_redirects=False)
        if method == "get"
        else out.post(url, data, follow_redirects=False)
    )
    assert answer.status_code == 303 and answer.headers["location"].startswith("/dang-nhap?next=")
    for role in roles:
        person = people(role)
        person.get("/ban-tin")
        answer = person.get(url) if method == "get" else person.post(url, data)
        assert answer.status_code == 403 and "Không được phép" in answer.text, (role, url)


def test_queue_is_for_leaders_and_inspectors_and_renders_what_will_air(web_app: App, browser: People) -> None:
    bid = _submitted(web_app)
    _denied(browser, ("officer", "operator"), "get", "/duyet", {})
    for role in ("leader", "admin", "inspector"):
        page = browser(role).get("/duyet")
        assert page.status_code == 200, role
        assert "Tin chờ duyệt" in page.text and "Nguyễn Thị Lan" in page.text
        assert "ủy ban nhân dân" in page.text.lower() and "mười bảy giờ ba mươi phút" in page.text
        assert '<mark class="rewrite" title="từ viết tắt: viết «UBND»">' in page.text
        assert f'src="/ban-tin/{bid}/am-thanh/1"' in page.text
        assert ('action="/duyet/' in page.text) == (role != "inspector"), role
    with web_app.tx() as s:
        rev = bulletins.latest_revision(bulletins.get(s, bid))
        render = media.current_render(s, rev)  # rendered on view, so the leader can listen at once
        assert render is not None and media.is_intact(render) and render.spoken_sha256 == rev.spoken_sha256


def test_leader_approves_the_spoken_text_shown_and_the_audio_is_made(web_app: App, browser: People) -> None:
    bid = _submitted(web_app)
    with web_app.tx() as s:
        spoken_sha = bulletins.latest_revision(bulletins.get(s, bid)).spoken_sha256
    url = f"/duyet/{bid}/duyet"
    _denied(browser, ("officer", "operator", "inspector"), "post", url, {"seen": spoken_sha})
    assert _latest(web_app, bid)[:2] == ("submitted", "pending")
    khoi = browser("leader")
    page = khoi.get("/duyet")
    assert f'name="seen" value="{spoken_sha}"' in page.text
    done = khoi.post(url, {"seen": spoken_sha})
    assert done.status_code == 200 and "Đã duyệt «Tin chờ duyệt», phiên bản 1" in done.text
    assert "giọng espeak" in done.text and "Không có bản tin nào chờ duyệt" in done.text
    assert _latest(web_app, bid) == ("approved", "approved", "khoi", spoken_sha)
    with web_app.tx() as s:
        rev = bulletins.approved_revision(bulletins.get(s, bid))
        render = media.current_render(s, rev)
        assert render is not None and file_sha256(Path(render.path)) == render.sha256
        audit = s.scalars(select(AuditRow.action).where(AuditRow.object_id == str(bid))).all()
    assert audit[-1] == "bulletin.approve"


def test_approval_of_a_text_the_leader_did_not_see_is_refused(web_app: App, browser: People) -> None:
    bid = _submitted(web_app)
    khoi = browser("leader")
    khoi.get("/duyet")
    for seen in ("", "abc", "0" * 64):
        answer = khoi.post(f"/duyet/{bid}/duyet", {"seen": seen})
        assert answer.status_code == 400 and 'class="field-error"' in answer.text, seen
    assert _latest(web_app, bid)[:2] == ("submitted", "pending")
    answer = khoi.post(f"/duyet/{_approved_ids(web_app)[0]}/duyet", {"seen": "0" * 64})
    assert answer.status_code == 400
    assert browser("leader").post("/duyet/99999/duyet", {"seen": "0" * 64}).status_code == 404


def _approved_ids(app: App) -> list[int]:
    with app.tx() as s:
        return [b.id for b in bulletins.list_bulletins(s, find_station(s, None).id, status="approved")]


def test_return_needs_a_reason_beside_the_field_and_the_officer_reads_it(
    web_app: App, browser: People
) -> None:
    bid = _submitted(web_app)
    url = f"/duyet/{bid}/tra-lai"
    _denied(browser, ("officer", "operator", "inspector"), "post", url, {"reason": "Sửa lại."})
    khoi = browser("leader")
    khoi.get("/duyet")
    empty = khoi.post(url, {"reason": "   "})
    assert empty.status_code == 400 and f'id="e-reason-{bid}"' in empty.text and "Cần ghi lý do" in empty.text
    assert _latest(web_app, bid)[:2] == ("submitted", "pending")
    done = khoi.post(url, {"reason": "Bổ sung <b>địa điểm</b> tổ chức."})
    assert done.status_code == 200 and "Đã trả lại «Tin chờ duyệt»" in done.text
    assert _latest(web_app, bid)[:2] == ("rejected", "rejected")
    page = browser("officer").get(f"/ban-tin/{bid}")
    assert "Bổ sung &lt;b&gt;địa điểm&lt;/b&gt; tổ chức." in page.text and "Gửi duyệt" in page.text


def test_a_recording_waits_with_its_own_audio(web_app: App, browser: People, tmp_path: Path) -> None:
    import subprocess

    wav = tmp_path / "ghi.wav"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "sine=frequency=300:duration=1.5", "-y", str(wav)],
        check=True,
    )
    with media.import_recording(wav, web_app.media_settings(), max_duration_s=60) as rec, web_app.tx() as s:
        row = bulletins.add(
            s,
            station_id=find_station(s, None).id,
            campaign_code="ma-tuy-2023",
            title="Thông báo ghi âm",
            agency="",
            text="Bản ghi âm: Thông báo ghi âm",
            actor="lan",
            now=web_app.clock.now(),
            speak=web_app.speak,
            recording=rec,
        )
        bulletins.submit(s, row.id, actor="lan", now=web_app.clock.now())
        bid, sha = row.id, rec.sha256
    page = browser("leader").get("/duyet")
    assert "Thông báo ghi âm" in page.text and "bản ghi âm" in page.text
    assert f'name="seen" value="{sha}"' in page.text
    audio = browser("leader").get(f"/ban-tin/{bid}/am-thanh/1")
    assert audio.status_code == 200 and len(audio.content) > 1000


class _Down:
    """A TTS engine that is unreachable (implements the Engine protocol)."""

    name = "gtts"
    voice = "vi"
    file_extension = "mp3"

    def settings_key(self) -> str:
        return "down"

    def synthesize(self, text: str, dst: Path) -> None:
        from broadcaster.errors import EngineError

        raise EngineError("Không kết nối được máy chủ đọc.", "Thử lại khi có mạng.")


def test_a_failed_render_is_shown_and_the_approval_still_stands(web_app: App, browser: People) -> None:
    from broadcaster.speech.normalize import NORMALIZER_VERSION
    from broadcaster.speech.render import RenderCache, Renderer

    bid = _submitted(web_app, text="Nội dung mới chưa từng được đọc.")
    cache = RenderCache(web_app.config.home / "cache" / "down")
    web_app.__dict__["renderer"] = Renderer([_Down()], cache, NORMALIZER_VERSION, retries=0)
    khoi = browser("leader")
    page = khoi.get("/duyet")
    assert page.status_code == 200 and "Chưa tạo được âm thanh" in page.text
    with web_app.tx() as s:
        spoken_sha = bulletins.latest_revision(bulletins.get(s, bid)).spoken_sha256
    done = khoi.post(f"/duyet/{bid}/duyet", {"seen": spoken_sha})
    assert done.status_code == 200 and "Đã duyệt" in done.text and "Chưa tạo được âm thanh" in done.text
    assert _latest(web_app, bid)[:3] == ("approved", "approved", "khoi")
