"""Bản tin pages: every route for every role, the editor's preview, Nghe thử, recordings, history."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import Browser

from broadcaster.app import App
from broadcaster.services import bulletin_text, bulletins, media
from broadcaster.services.stations import find_station

ROLES = ("officer", "leader", "operator", "admin", "inspector")
TEXT = "Thực hiện Kế hoạch số 61/KH-UBND ngày 03/03/2023, UBND phường tuyên truyền lúc 17h30."
People = Callable[[str | None], Browser]


def _draft(app: App, text: str = TEXT, title: str = "Tin thử nghiệm") -> int:
    with app.tx() as s:
        row = bulletins.add(
            s,
            station_id=find_station(s, None).id,
            campaign_code="ma-tuy-2023",
            title=title,
            agency="",
            text=text,
            actor="lan",
            now=app.clock.now(),
            speak=app.speak,
        )
        return row.id


def _state(app: App, bulletin_id: int) -> tuple[str, int, str]:
    """Status, latest revision number and its text, read back through the services."""
    with app.tx() as s:
        row = bulletins.get(s, bulletin_id)
        latest = bulletins.latest_revision(row)
        return row.status, latest.number, latest.text


def _count(app: App) -> int:
    with app.tx() as s:
        return len(bulletins.list_bulletins(s, find_station(s, None).id))


def _denied(people: People, roles: tuple[str, ...], method: str, url: str, data: dict[str, object]) -> None:
    """Signed out → the sign-in page; each of `roles` → the Vietnamese 403 page."""
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
        assert answer.status_code == 403, (role, url, answer.text[:300])
        assert "Không được phép" in answer.text


def test_list_shows_titles_labels_and_full_names_to_every_role(web_app: App, browser: People) -> None:
    bid = _draft(web_app, title="Tin <b>đậm</b> thử")
    _denied(browser, (), "get", "/ban-tin", {})
    for role in ROLES:
        page = browser(role).get("/ban-tin")
        assert page.status_code == 200, role
        assert f'href="/ban-tin/{bid}"' in page.text and "Tin &lt;b&gt;đậm&lt;/b&gt; thử" in page.text
        assert "Phòng, chống ma túy năm 2023" in page.text and "ma-tuy-2023</td>" not in page.text
        assert "Bản nháp" in page.text and "Nguyễn Thị Lan" in page.text
    officer = browser("officer").get("/ban-tin")
    assert 'href="/ban-tin/moi"' in officer.text
    assert 'href="/ban-tin/moi"' not in browser("inspector").get("/ban-tin").text


def test_list_filters_by_campaign_status_and_author(web_app: App, browser: People) -> None:
    bid = _draft(web_app, title="Tin lọc thử")
    person = browser("leader")
    by_campaign = person.get("/ban-tin?chien_dich=ma-tuy-2023")
    assert "Tin lọc thử" in by_campaign.text and "Pháp luật nghiêm cấm mua dâm" not in by_campaign.text
    drafts = person.get("/ban-tin?trang_thai=draft")
    assert "Tin lọc thử" in drafts.text and "Cảnh giác với thủ đoạn mua bán người" not in drafts.text
    approved = person.get("/ban-tin?trang_thai=approved")
    assert "Tin lọc thử" not in approved.text and "Cảnh giác với thủ đoạn mua bán người" in approved.text
    assert "Tin lọc thử" not in person.get("/ban-tin?tac_gia=khoi").text
    assert f'href="/ban-tin/{bid}"' in person.get("/ban-tin?tac_gia=lan").text
    bad = person.get("/ban-tin?trang_thai=khong-co")
    assert (
        bad.status_code == 400 and 'class="field-error"' in bad.text and "Không có trạng thái này" in bad.text
    )


def test_new_bulletin_form_is_for_officers(web_app: App, browser: People) -> None:
    _denied(browser, ("leader", "operator", "inspector"), "get", "/ban-tin/moi", {})
    for role in ("officer", "admin"):
        page = browser(role).get("/ban-tin/moi")
        assert page.status_code == 200 and "Phòng, chống ma túy năm 2023" in page.text
        assert 'value="ma-tuy-2023"' in page.text and "/static/bulletins.js" in page.text


def test_officer_saves_a_draft_and_its_page_shows_text_and_spoken_text(web_app: App, browser: People) -> None:
    before = _count(web_app)
    form = {"title": "Tin mới", "campaign": "ma-tuy-2023", "agency": "Công an phường", "text": TEXT}
    _denied(browser, ("leader", "operator", "inspector"), "post", "/ban-tin/moi", form)
    assert _count(web_app) == before
    lan = browser("officer")
    lan.get("/ban-tin/moi")
    done = lan.post("/ban-tin/moi", form, follow_redirects=False)
    assert done.status_code == 303
    bid = int(done.headers["location"].rsplit("/", 1)[1])
    assert _state(web_app, bid) == ("draft", 1, TEXT)
    page = lan.get(f"/ban-tin/{bid}")
    assert "Đã lưu bản nháp" in page.text
    assert "Kế hoạch số 61/KH-UBND" in page.text and "sáu mươi mốt" in page.text
    assert '<mark class="rewrite" title="số hiệu văn bản: viết «số 61/KH-UBND»">' in page.text
    assert "Công an phường" in page.text and "Gửi duyệt" in page.text


def test_script_in_a_bulletin_is_shown_as_text_everywhere(web_app: App, browser: People) -> None:
    evil = '<script>alert("x")</script> Phường tuyên truyền phòng chống ma túy.'
    bid = _draft(web_app, text=evil, title="<script>alert(1)</script>")
    with web_app.tx() as s:
        bulletins.submit(s, bid, actor="lan", now=web_app.clock.now())
    pages = [
        browser("officer").get(f"/ban-tin/{bid}"),
        browser("officer").get(f"/ban-tin/{bid}/sua"),
        browser("officer").get("/ban-tin"),
        browser("leader").get("/duyet"),
    ]
    for page in pages:
        assert page.status_code == 200
        assert "<script>alert" not in page.text and "&lt;script&gt;alert" in page.text
    preview = browser("officer").post("/ban-tin/doc-thu", {"text": evil}).json()
    assert "<script" not in preview["html"] and "script alert" in preview["spoken"]  # spoken as words


@pytest.mark.parametrize(
    ("text", "message"),
    [("   \n  ", "Nội dung bản tin trống"), ("😀🎉 !!! 👍", "không có chữ nào để đọc")],
)
def test_empty_or_emoji_only_text_is_refused_beside_the_field(
    web_app: App, browser: People, text: str, message: str
) -> None:
    before = _count(web_app)
    lan = browser("officer")
    lan.get("/ban-tin/moi")
    answer = lan.post("/ban-tin/moi", {"title": "Tin trống", "campaign": "ma-tuy-2023", "text": text})
    assert answer.status_code == 400
    assert re.search(rf'<p class="field-error" id="e-text">[^<]*{message}', answer.text), answer.text[-3000:]
    assert 'value="Tin trống"' in answer.text  # what she typed is kept
    assert _count(web_app) == before


def test_missing_title_or_campaign_is_refused_beside_its_field(web_app: App, browser: People) -> None:
    before = _count(web_app)
    lan = browser("officer")
    lan.get("/ban-tin/moi")
    no_title = lan.post("/ban-tin/moi", {"title": " ", "campaign": "ma-tuy-2023", "text": TEXT})
    assert no_title.status_code == 400 and 'id="e-title"' in no_title.text
    assert "Kế hoạch số 61/KH-UBND" in no_title.text
    no_campaign = lan.post("/ban-tin/moi", {"title": "Tin", "campaign": "", "text": TEXT})
    assert no_campaign.status_code == 400 and 'id="e-campaign"' in no_campaign.text
    assert _count(web_app) == before


def test_preview_json_gives_the_spoken_text_and_each_rewrite(web_app: App, browser: People) -> None:
    out = browser(None)
    out.get("/dang-nhap")
    assert out.post("/ban-tin/doc-thu", {"text": TEXT}, follow_redirects=False).status_code == 303
    for role in ROLES:
        answer = browser(role).post("/ban-tin/doc-thu", {"text": TEXT})
        assert answer.status_code == 200, role
    body = answer.json()
    assert "sáu mươi mốt" in body["spoken"] and body["error"] == ""
    assert {"original": "UBND", "spoken": "ủy ban nhân dân", "rule": "từ viết tắt"} in body["rewrites"]
    assert '<mark class="rewrite" title="giờ: viết «17h30»">mười bảy giờ ba mươi phút</mark>' in body["html"]
    empty = browser("officer").post("/ban-tin/doc-thu", {"text": "🎉"}).json()
    assert "không có chữ nào để đọc" in empty["error"] and "field-error" in empty["html"]


def test_preview_without_javascript_shows_the_same_marks(web_app: App, browser: People) -> None:
    lan = browser("officer")
    lan.get("/ban-tin/moi")
    form = {"title": "Tin", "campaign": "ma-tuy-2023", "text": TEXT, "action": "preview"}
    before = _count(web_app)
    page = lan.post("/ban-tin/moi", form)
    assert page.status_code == 200 and _count(web_app) == before
    assert '<mark class="rewrite" title="từ viết tắt: viết «UBND»">ủy ban nhân dân</mark>' in page.text


def test_listen_renders_the_air_audio_and_serves_it(web_app: App, browser: People) -> None:
    out = browser(None)
    out.get("/dang-nhap")
    assert out.post("/ban-tin/nghe-thu", {"text": TEXT}, follow_redirects=False).status_code == 303
    lan = browser("officer")
    heard = lan.post("/ban-tin/nghe-thu", {"text": TEXT}).json()
    assert heard["engine"] == "espeak" and heard["duration_s"] > 2
    audio = lan.get(heard["url"])
    assert audio.status_code == 200 and audio.headers["content-type"] == "audio/mpeg"
    assert "immutable" in audio.headers["cache-control"] and len(audio.content) > 10_000
    ranged = lan.get(heard["url"], headers={"Range": "bytes=0-99"})
    assert ranged.status_code == 206 and len(ranged.content) == 100
    key = heard["url"].rsplit("/", 1)[1]
    assert (
        key
        == Path(media.render_spoken(web_app.speak(TEXT), web_app.renderer, web_app.media_settings())[0]).stem
    )
    assert browser(None).get(heard["url"], follow_redirects=False).status_code == 303
    assert lan.get("/ban-tin/nghe-thu/" + "0" * 64).status_code == 404
    assert lan.get("/ban-tin/nghe-thu/..%2F..%2Fweb-secret").status_code == 404
    refused = lan.post("/ban-tin/nghe-thu", {"text": "  "})
    assert refused.status_code == 400 and "trống" in refused.json()["error"]
    # Without JavaScript the button renders the same file into the page.
    lan.get("/ban-tin/moi")
    page = lan.post(
        "/ban-tin/moi", {"title": "T", "campaign": "ma-tuy-2023", "text": TEXT, "action": "listen"}
    )
    assert page.status_code == 200 and f'src="/ban-tin/nghe-thu/{key}"' in page.text


def test_detail_page_for_every_role_and_unknown_id_is_404(web_app: App, browser: People) -> None:
    bid = _draft(web_app)
    _denied(browser, (), "get", f"/ban-tin/{bid}", {})
    for role in ROLES:
        page = browser(role).get(f"/ban-tin/{bid}")
        assert page.status_code == 200 and "Tin thử nghiệm" in page.text
        assert ("Gửi duyệt" in page.text) == (role in ("officer", "admin")), role
        assert ("Ngừng phát</button>" in page.text) == (role in ("officer", "leader", "admin")), role
    missing = browser("officer").get("/ban-tin/99999")
    assert missing.status_code == 404 and "Không có bản tin số 99999" in missing.text
    assert browser("officer").get("/ban-tin/abc").status_code == 404
    assert browser("officer").get("/ban-tin/99999/sua").status_code == 404


def test_revision_audio_renders_on_demand_for_every_role(web_app: App, browser: People) -> None:
    bid = _draft(web_app)
    url = f"/ban-tin/{bid}/am-thanh/1"
    _denied(browser, (), "get", url, {})
    for role in ROLES:
        answer = browser(role).get(url)
        assert answer.status_code == 200 and answer.headers["content-type"] == "audio/mpeg", role
    with web_app.tx() as s:
        rev = bulletins.latest_revision(bulletins.get(s, bid))
        render = media.current_render(s, rev)
        assert render is not None and Path(render.path).read_bytes() == answer.content
    assert browser("officer").get(f"/ban-tin/{bid}/am-thanh/7").status_code == 404


def test_edit_makes_a_new_revision_and_the_history_shows_the_word_diff(web_app: App, browser: People) -> None:
    bid = _draft(web_app, text="Phường tổ chức tuyên truyền vào sáng thứ Hai.")
    form = {
        "title": "Tin thử nghiệm",
        "campaign": "ma-tuy-2023",
        "text": "Phường tổ chức tuyên truyền vào chiều thứ Ba.",
    }
    _denied(browser, ("leader", "operator", "inspector"), "get", f"/ban-tin/{bid}/sua", {})
    _denied(browser, ("leader", "operator", "inspector"), "post", f"/ban-tin/{bid}/sua", form)
    assert _state(web_app, bid)[1] == 1
    lan = browser("officer")
    edit = lan.get(f"/ban-tin/{bid}/sua")
    assert edit.status_code == 200 and "Phường tổ chức tuyên truyền vào sáng thứ Hai." in edit.text
    done = lan.post(f"/ban-tin/{bid}/sua", {**form, "text": form["text"].replace("\n", "\r\n")})
    assert done.status_code == 200 and "Đã lưu phiên bản 2" in done.text
    assert _state(web_app, bid) == ("draft", 2, form["text"])
    assert '<del class="diff-del">sáng</del><ins class="diff-ins">chiều</ins>' in done.text
    assert '<del class="diff-del">Hai</del><ins class="diff-ins">Ba</ins>' in done.text
    lan.get(f"/ban-tin/{bid}/sua")
    same = lan.post(f"/ban-tin/{bid}/sua", form)
    assert same.status_code == 400 and 'id="e-text"' in same.text and "Chưa có gì thay đổi" in same.text
    retitled = lan.post(f"/ban-tin/{bid}/sua", {**form, "title": "Tiêu đề mới", "campaign": "hiv-aids-2023"})
    assert retitled.status_code == 200 and "Đã lưu thay đổi" in retitled.text
    assert "Phòng, chống HIV/AIDS năm 2023" in retitled.text and _state(web_app, bid)[1] == 2


def test_submit_then_the_leader_sees_it_and_a_return_reason_reaches_the_officer(
    web_app: App, browser: People
) -> None:
    bid = _draft(web_app)
    _denied(browser, ("leader", "operator", "inspector"), "post", f"/ban-tin/{bid}/gui-duyet", {})
    assert _state(web_app, bid)[0] == "draft"
    lan = browser("officer")
    lan.get(f"/ban-tin/{bid}")
    assert "Đã gửi lãnh đạo duyệt" in lan.post(f"/ban-tin/{bid}/gui-duyet").text
    assert _state(web_app, bid)[0] == "submitted"
    again = lan.post(f"/ban-tin/{bid}/gui-duyet")
    assert again.status_code == 200 and "không gửi duyệt được" in again.text
    khoi = browser("leader")
    khoi.get("/duyet")
    khoi.post(f"/duyet/{bid}/tra-lai", {"reason": "Ghi rõ địa điểm tuyên truyền."})
    page = lan.get(f"/ban-tin/{bid}")
    assert "Bị trả lại bởi Vũ Văn Khôi" in page.text and "Ghi rõ địa điểm tuyên truyền." in page.text


def test_retire_is_for_officers_and_leaders(web_app: App, browser: People) -> None:
    bid = _draft(web_app)
    _denied(browser, ("operator", "inspector"), "post", f"/ban-tin/{bid}/ngung", {})
    assert _state(web_app, bid)[0] == "draft"
    khoi = browser("leader")
    khoi.get(f"/ban-tin/{bid}")
    assert "Đã ngừng phát bản tin" in khoi.post(f"/ban-tin/{bid}/ngung").text
    assert _state(web_app, bid)[0] == "retired"
    assert browser("officer").get(f"/ban-tin/{bid}/sua").status_code == 400


def _recording(path: Path, seconds: float = 2.0, codec: tuple[str, ...] = ("-c:a", "libopus")) -> Path:
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            f"sine=frequency=330:duration={seconds}",
            *codec,
            "-y",
            str(path),
        ],
        check=True,
    )
    return path


def test_uploading_a_recording_makes_a_bulletin_and_a_recording_revision(
    web_app: App, browser: People, tmp_path: Path
) -> None:
    webm = _recording(tmp_path / "micro.webm")
    lan = browser("officer")
    lan.get("/ban-tin/moi")
    form = {"title": "Thông báo ghi âm", "campaign": "ma-tuy-2023", "action": "upload"}
    with webm.open("rb") as fh:
        done = lan.post(
            "/ban-tin/moi",
            form,
            files={"audio": ("ghi-am-micro.webm", fh, "audio/webm")},
            follow_redirects=False,
        )
    assert done.status_code == 303, done.text[-2000:]
    bid = int(done.headers["location"].rsplit("/", 1)[1])
    assert _state(web_app, bid) == ("draft", 1, "Bản ghi âm: Thông báo ghi âm")
    with web_app.tx() as s:
        render = media.current_render(s, bulletins.latest_revision(bulletins.get(s, bid)))
        assert render is not None and render.kind == "recording" and 1.5 < render.duration_s < 2.5
    wav = _recording(tmp_path / "thu-lai.wav", 1.5, ("-c:a", "pcm_s16le"))
    lan.get(f"/ban-tin/{bid}/sua")
    with wav.open("rb") as fh:
        again = lan.post(
            f"/ban-tin/{bid}/sua", {"action": "upload"}, files={"audio": ("thu-lai.wav", fh, "audio/wav")}
        )
    assert again.status_code == 200 and "Đã lưu phiên bản 2" in again.text
    assert f'src="/ban-tin/{bid}/am-thanh/2"' in again.text
    assert lan.get(f"/ban-tin/{bid}/am-thanh/2").content[:3] in (b"ID3", b"\xff\xfb", b"\xff\xf3")


def test_a_bad_upload_is_refused_beside_the_file_field(web_app: App, browser: People, tmp_path: Path) -> None:
    before = _count(web_app)
    lan = browser("officer")
    lan.get("/ban-tin/moi")
    form = {"title": "Ghi âm hỏng", "campaign": "ma-tuy-2023", "action": "upload"}
    text_file = lan.post(
        "/ban-tin/moi", form, files={"audio": ("ghi-chu.txt", b"khong phai am thanh", "text/plain")}
    )
    assert (
        text_file.status_code == 400
        and 'id="e-audio"' in text_file.text
        and "không phải bản ghi âm" in text_file.text
    )
    broken = lan.post("/ban-tin/moi", form, files={"audio": ("hong.mp3", b"\x00" * 4000, "audio/mpeg")})
    assert broken.status_code == 400 and 'id="e-audio"' in broken.text
    nothing = lan.post("/ban-tin/moi", form, files={"audio": ("", b"", "application/octet-stream")})
    assert nothing.status_code == 400 and "Chưa chọn tệp ghi âm" in nothing.text
    assert _count(web_app) == before
    leftovers = list((web_app.config.home / "tmp" / "uploads").glob("*"))
    assert leftovers == []


def test_marks_fall_back_to_searching_when_markers_change_the_reading() -> None:
    from broadcaster.speech.normalize import Normalizer

    normalizer = Normalizer()
    written = "1. UBND phường họp.\nMTTQ phối hợp."
    explained = bulletin_text.explain(written, normalizer.normalize(written), normalizer)
    assert "".join(p.text for p in explained.pieces) == normalizer.normalize(written)
    assert {p.text.casefold() for p in explained.pieces if p.rule} >= {"ủy ban nhân dân", "mặt trận tổ quốc"}


def test_every_signed_in_role_may_listen_to_a_draft_text(web_app: App, browser: People) -> None:
    for role in ROLES:
        heard = browser(role).post("/ban-tin/nghe-thu", {"text": "Phường tuyên truyền phòng chống ma túy."})
        assert heard.status_code == 200 and heard.json()["url"].startswith("/ban-tin/nghe-thu/"), role


def test_posts_without_the_form_token_are_refused_and_change_nothing(web_app: App, browser: People) -> None:
    bid = _draft(web_app)
    before = _count(web_app)
    lan = browser("officer")
    lan.get("/ban-tin/moi")
    form = {"title": "Tin", "campaign": "ma-tuy-2023", "text": TEXT}
    for url, data in [
        ("/ban-tin/moi", form),
        (f"/ban-tin/{bid}/sua", {**form, "text": "Nội dung khác hẳn."}),
        (f"/ban-tin/{bid}/gui-duyet", {}),
        (f"/ban-tin/{bid}/ngung", {}),
        ("/ban-tin/doc-thu", {"text": TEXT}),
    ]:
        answer = lan.client.post(url, data=data, follow_redirects=False)
        assert answer.status_code == 403 and "Tải lại trang" in answer.text, url
    assert _count(web_app) == before and _state(web_app, bid) == ("draft", 1, TEXT)


def test_actions_on_an_unknown_bulletin_are_the_404_page(web_app: App, browser: People) -> None:
    lan = browser("officer")
    lan.get("/ban-tin")
    for url in ("/ban-tin/99999/gui-duyet", "/ban-tin/99999/ngung"):
        answer = lan.post(url)
        assert answer.status_code == 404 and "Không có bản tin số 99999" in answer.text, url
    assert lan.get("/ban-tin/99999/am-thanh/1").status_code == 404
