"""The JSON API: bearer tokens (a user's acts with the user's role, a station's only reads its station),
401/403/404/400 as JSON, every endpoint, the OpenAPI document, and the secret kept out of logs and audit."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from datetime import timedelta

import pytest
from conftest import PEOPLE
from fastapi.testclient import TestClient
from seedpaths import SEED

from broadcaster.app import App
from broadcaster.schedules import parse_schedule
from broadcaster.services import bulletins, stations, web_auth
from broadcaster.services import station_settings as ss
from broadcaster.web.server import create_web

TEXT = "UBND phường Phú Thứ tuyên truyền phòng, chống ma túy lúc 17h30 ngày 20/3/2023."
READS = ("/api/bulletins", "/api/bulletins/1", "/api/schedule", "/api/asrun", "/api/report", "/api/status")
WRITES = (
    ("/api/bulletins", {"campaign": "mai-dam-2023", "title": "Tin", "text": TEXT}),
    ("/api/bulletins/1/submit", None),
    ("/api/bulletins/1/approve", {}),
    ("/api/airings", {"bulletin_id": 1, "next": True}),
    ("/api/play-now", {"bulletin_id": 1, "emergency": True}),
)


@pytest.fixture
def api(web_app: App) -> Iterator[TestClient]:
    """The console in-process; requests carry no cookie unless a test signs in."""
    with TestClient(create_web(web_app), raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def tokens(web_app: App) -> dict[str, str]:
    """A token per role (its person's) and one for the station; campaigns made current so airings fit."""
    now = web_app.clock.now()
    out = {}
    with web_app.tx() as s:
        for role, name in PEOPLE.items():
            out[role] = web_auth.create_api_token(
                s, actor="quan", name=f"mã {name}", now=now, user_name=name
            ).token
        station = web_auth.create_api_token(
            s, actor="quan", name="máy huyện", now=now, station_code="phu-thu"
        )
        out["station"] = station.token
    period = {
        "period_start": str(now.date() - timedelta(days=3)),
        "period_end": str(now.date() + timedelta(days=60)),
    }
    with web_app.tx() as s:
        doc = ss.station_document(s, stations.find_station(s, None))
        mai = next(c for c in doc["campaign"] if c["code"] == "mai-dam-2023")
        flat = {**mai, **mai.get("target", {})}
        values = {
            k: "\n".join(v) if isinstance(v, list) else str(v) for k, v in flat.items() if k != "target"
        }
        ss.update_campaign(s, None, "mai-dam-2023", {**values, **period}, actor="quan", now=now, speak=str)
    return out


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _refused(answer, status: int) -> str:  # type: ignore[no-untyped-def]
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert body["status"] == status and set(body) == {"error", "status"}
    return str(body["error"])


def _first_approved(app: App) -> int:
    with app.tx() as s:
        row = bulletins.list_bulletins(s, stations.find_station(s, None).id, "mai-dam-2023", "approved")[0]
        return row.id


def test_without_a_valid_token_every_endpoint_answers_401(api: TestClient, tokens: dict[str, str]) -> None:
    headers = [
        {},
        {"Authorization": "Bearer sai"},
        _auth("bc_khong-co"),
        {"Authorization": f"Basic {tokens['admin']}"},
    ]
    for header in headers:
        for url in READS:
            assert "mã truy cập" in _refused(api.get(url, headers=header), 401)
        for url, body in WRITES:
            assert "Authorization: Bearer" in _refused(api.post(url, json=body, headers=header), 401)


def test_a_signed_in_browser_cookie_does_not_open_the_api(api: TestClient, web_app: App) -> None:
    page = api.get("/dang-nhap")
    import re

    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    api.post("/dang-nhap", data={"name": "quan", "password": "mat-khau-thu-nghiem", "csrf": csrf})
    assert "bc_session" in api.cookies
    _refused(api.get("/api/bulletins"), 401)
    assert api.post("/api/bulletins", json=WRITES[0][1]).status_code in (401, 403)


def test_every_token_reads_the_stations_bulletins_schedule_log_report_and_status(
    api: TestClient, tokens: dict[str, str]
) -> None:
    for who, token in tokens.items():
        for url in READS:
            answer = api.get(url, headers=_auth(token))
            assert answer.status_code == 200, (who, url, answer.text)
    listing = api.get(
        "/api/bulletins", params={"status": "approved"}, headers=_auth(tokens["station"])
    ).json()
    assert listing and {b["status"] for b in listing} == {"approved"}
    one = api.get(f"/api/bulletins/{listing[0]['id']}", headers=_auth(tokens["station"])).json()
    assert one["spoken_text"] and one["revisions"][0]["approval"] == "approved"
    assert one["created_at"].endswith("+07:00")  # the station's offset
    report = api.get(
        "/api/report",
        params={"campaign": "mai-dam-2023", "period": "week"},
        headers=_auth(tokens["inspector"]),
    )
    assert report.json()["reports"][0]["campaign"] == "mai-dam-2023" and report.json()["reports"][0]["rows"]


def test_a_user_token_acts_with_its_users_role(api: TestClient, tokens: dict[str, str], web_app: App) -> None:
    body = {"campaign": "mai-dam-2023", "title": "Tin <script>x</script> qua API", "text": TEXT}
    for who in ("leader", "operator", "inspector", "station"):
        _refused(api.post("/api/bulletins", json=body, headers=_auth(tokens[who])), 403)
    made = api.post("/api/bulletins", json=body, headers=_auth(tokens["officer"]))
    assert made.status_code == 201 and made.json()["status"] == "draft" and made.json()["created_by"] == "lan"
    bid = made.json()["id"]
    assert "mười bảy giờ ba mươi" in made.json()["spoken_text"]
    with web_app.tx() as s:
        assert bulletins.get(s, bid).title == "Tin <script>x</script> qua API"
    _refused(api.post(f"/api/bulletins/{bid}/submit", headers=_auth(tokens["operator"])), 403)
    submitted = api.post(f"/api/bulletins/{bid}/submit", headers=_auth(tokens["officer"]))
    assert submitted.status_code == 200 and submitted.json()["status"] == "submitted"
    _refused(api.post(f"/api/bulletins/{bid}/approve", json={}, headers=_auth(tokens["officer"])), 403)
    stale = api.post(
        f"/api/bulletins/{bid}/approve", json={"spoken_sha256": "0000"}, headers=_auth(tokens["leader"])
    )
    assert "thay đổi" in _refused(stale, 400)
    sha = submitted.json()["spoken_sha256"][:12]
    approved = api.post(
        f"/api/bulletins/{bid}/approve", json={"spoken_sha256": sha}, headers=_auth(tokens["leader"])
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["bulletin"]["status"] == "approved" and approved.json()["audio_ready"] is True
    assert approved.json()["bulletin"]["revisions"][-1]["approved_by"] == "khoi"


def test_the_operator_queues_into_the_next_session_and_plays_now(
    api: TestClient, tokens: dict[str, str], web_app: App
) -> None:
    bid = _first_approved(web_app)
    for who in ("officer", "leader", "inspector", "station"):
        _refused(
            api.post("/api/airings", json={"bulletin_id": bid, "next": True}, headers=_auth(tokens[who])), 403
        )
    queued = api.post(
        "/api/airings", json={"bulletin_id": bid, "next": True}, headers=_auth(tokens["operator"])
    )
    assert queued.status_code == 201, queued.text
    airing = queued.json()
    assert airing["queued_by"] == "hung" and airing["priority"] == "normal"
    again = api.post(
        "/api/airings", json={"bulletin_id": bid, "next": True}, headers=_auth(tokens["operator"])
    )
    assert "đã có trong buổi phát" in _refused(again, 400)
    day = airing["planned_start"][:10]
    plan = api.get("/api/schedule", params={"from": day, "to": day}, headers=_auth(tokens["station"])).json()
    items = [i for ses in plan["sessions"] for i in ses["items"]]
    assert [i["airing_id"] for i in items] == [airing["id"]] and items[0]["duration_s"] > 0
    at = {"bulletin_id": bid, "date": day, "time": airing["planned_start"][11:16]}
    assert "đã có" in _refused(api.post("/api/airings", json=at, headers=_auth(tokens["operator"])), 400)
    both = {"bulletin_id": bid, "next": True, "date": day}
    _refused(api.post("/api/airings", json=both, headers=_auth(tokens["operator"])), 400)
    _refused(
        api.post(
            "/api/play-now", json={"bulletin_id": bid, "emergency": True}, headers=_auth(tokens["leader"])
        ),
        403,
    )
    now = api.post(
        "/api/play-now", json={"bulletin_id": bid, "emergency": True}, headers=_auth(tokens["operator"])
    )
    assert (
        now.status_code == 201
        and now.json()["priority"] == "emergency"
        and now.json()["session"] == "emergency"
    )


def test_bad_input_and_unknown_ids_are_json_errors(api: TestClient, tokens: dict[str, str]) -> None:
    officer = _auth(tokens["officer"])
    assert "text" in _refused(
        api.post("/api/bulletins", json={"campaign": "mai-dam-2023", "title": "T"}, headers=officer), 400
    )
    unknown = {"campaign": "khong-co", "title": "T", "text": TEXT}
    assert "khong-co" in _refused(api.post("/api/bulletins", json=unknown, headers=officer), 404)
    _refused(api.get("/api/bulletins/9999", headers=officer), 404)
    _refused(
        api.get("/api/schedule", params={"from": "2023-03-20", "to": "2023-03-01"}, headers=officer), 400
    )
    _refused(api.get("/api/schedule", params={"from": "20/03/2023"}, headers=officer), 400)
    _refused(api.get("/api/report", params={"period": "day"}, headers=officer), 400)
    _refused(api.get("/api/asrun", params={"outcome": "played"}, headers=officer), 400)
    _refused(api.get("/api/khong-co", headers=officer), 404)


def test_a_station_token_reads_only_its_own_station(
    api: TestClient, tokens: dict[str, str], web_app: App
) -> None:
    other = SEED.read_text(encoding="utf-8").replace('code = "phu-thu"', 'code = "an-phu"', 1)
    now = web_app.clock.now()
    with web_app.tx() as s:
        stations.import_schedule(
            s, parse_schedule(other, "an-phu.toml"), actor="t", now=now, speak=web_app.speak
        )
        token = web_auth.create_api_token(
            s, actor="quan", name="an phú", now=now, station_code="an-phu"
        ).token
        ours = bulletins.list_bulletins(s, stations.find_station(s, "phu-thu").id)[0].id
    theirs = api.get("/api/bulletins", headers=_auth(token)).json()
    assert theirs and ours not in {b["id"] for b in theirs}
    _refused(api.get(f"/api/bulletins/{ours}", headers=_auth(token)), 404)
    assert api.get("/api/status", headers=_auth(token)).json()["station"] == "an-phu"
    assert api.get(f"/api/bulletins/{ours}", headers=_auth(tokens["station"])).status_code == 200


def test_a_revoked_token_is_refused_at_once(api: TestClient, tokens: dict[str, str], web_app: App) -> None:
    assert api.get("/api/status", headers=_auth(tokens["officer"])).status_code == 200
    with web_app.tx() as s:
        row = next(t for t in web_auth.list_api_tokens(s, actor="quan") if t.user_name == "lan")
        web_auth.revoke_api_token(s, row.id, actor="quan", now=web_app.clock.now())
    _refused(api.get("/api/status", headers=_auth(tokens["officer"])), 401)
    body = {"campaign": "mai-dam-2023", "title": "T", "text": TEXT}
    _refused(api.post("/api/bulletins", json=body, headers=_auth(tokens["officer"])), 401)
    with web_app.tx() as s:
        listed = {t.user_name: t for t in web_auth.list_api_tokens(s, actor="quan")}
    assert listed["lan"].revoked_at is not None and listed["hung"].revoked_at is None
    assert listed["lan"].last_used_at is not None and listed["hung"].last_used_at is None


def test_the_secret_never_reaches_the_logs_the_audit_or_the_database(
    api: TestClient, tokens: dict[str, str], web_app: App, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secret = tokens["officer"]
    made = api.post(
        "/api/bulletins", json={"campaign": "mai-dam-2023", "title": "T", "text": TEXT}, headers=_auth(secret)
    )
    assert made.status_code == 201
    api.post("/api/bulletins/9999/submit", headers=_auth(secret))
    api.get("/api/bulletins", params={"status": "sai"}, headers=_auth(secret))
    assert secret not in caplog.text and secret[3:] not in caplog.text
    from sqlalchemy import select

    from broadcaster.store.models import AuditRow

    with web_app.tx() as s:
        token_id = next(t.id for t in web_auth.list_api_tokens(s, actor="quan") if t.user_name == "lan")
        rows = list(s.scalars(select(AuditRow).where(AuditRow.action == "api.request")))
        add = next(r for r in s.scalars(select(AuditRow).where(AuditRow.action == "bulletin.add")))
    assert [(r.actor, r.object_type, r.object_id, r.detail["path"]) for r in rows] == [
        ("lan", "api_token", str(token_id), "/api/bulletins")
    ]
    assert add.actor == "lan"
    db = web_app.config.home / "broadcaster.db"
    dump = "\n".join(sqlite3.connect(db).iterdump())
    assert web_auth.token_hash(secret) in dump
    for token in tokens.values():
        assert token not in dump and token[3:] not in dump


def test_the_openapi_document_lists_the_api_and_no_page(api: TestClient) -> None:
    doc = api.get("/api/openapi.json").json()
    paths = doc["paths"]
    assert {
        "/api/bulletins",
        "/api/bulletins/{bulletin_id}",
        "/api/bulletins/{bulletin_id}/submit",
        "/api/bulletins/{bulletin_id}/approve",
        "/api/schedule",
        "/api/airings",
        "/api/play-now",
        "/api/asrun",
        "/api/report",
        "/api/status",
    } <= set(paths)
    assert set(paths["/api/bulletins"]) == {"get", "post"}
    assert not [p for p in paths if not p.startswith("/api/")]
    assert "HTTPBearer" in doc["components"]["securitySchemes"]
    assert paths["/api/status"]["get"]["security"] == [{"HTTPBearer": []}]
    schemas = doc["components"]["schemas"]
    assert {
        "BulletinOut",
        "BulletinDetailOut",
        "AiringOut",
        "AsRunOut",
        "ReportOut",
        "StatusOut",
        "ErrorOut",
    } <= set(schemas)
    ok = paths["/api/bulletins/{bulletin_id}"]["get"]["responses"]
    assert ok["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/BulletinDetailOut")
    assert ok["403"]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorOut")
    params = {p["name"] for p in paths["/api/schedule"]["get"]["parameters"]}
    assert params == {"from", "to"}


def test_status_reports_the_daemon_heartbeat(api: TestClient, tokens: dict[str, str], web_app: App) -> None:
    from broadcaster.playout.source import Holder
    from broadcaster.services.daemon_lease import StationLease

    first = api.get("/api/status", headers=_auth(tokens["station"])).json()
    assert (
        first["daemon"] is None and first["station"] == "phu-thu" and first["timezone"] == "Asia/Ho_Chi_Minh"
    )
    with web_app.tx() as s:
        station_id = stations.find_station(s, None).id
    lease = StationLease(web_app.sessions, station_id)
    holder = Holder("thu-nghiem", "may-tram", 4242, "/var/lib/broadcaster")
    lease.acquire(holder, web_app.clock.now(), timedelta(seconds=30))
    daemon = api.get("/api/status", headers=_auth(tokens["operator"])).json()["daemon"]
    assert daemon["alive"] is True and daemon["state"] == "idle" and daemon["host"] == "may-tram"
    assert daemon["pid"] == 4242 and daemon["heartbeat_at"].endswith("+07:00")
    lease.release(holder, web_app.clock.now())
    stopped = api.get("/api/status", headers=_auth(tokens["operator"])).json()["daemon"]
    assert stopped["alive"] is False and stopped["state"] == "stopped"
