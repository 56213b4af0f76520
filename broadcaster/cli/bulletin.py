"""`broadcaster bulletin`: the officer writes, the leader approves what will be heard."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from broadcaster import labels
from broadcaster.app import App
from broadcaster.cli.common import (
    State,
    actor_option,
    json_option,
    pass_state,
    print_json,
    print_table,
    shorten,
)
from broadcaster.cli.speech import fallback_note
from broadcaster.domain import BulletinStatus
from broadcaster.errors import BroadcasterError, InputError
from broadcaster.services import bulletins, media
from broadcaster.services.stations import station_zone_of
from broadcaster.services.withdrawals import Withdrawn


def _read_text(file: str | None, initial: str = "") -> str:
    if file == "-":
        return sys.stdin.read()
    if file:
        path = Path(file)
        try:
            return path.read_text(encoding="utf-8")
        except FileNotFoundError as exc:
            raise InputError(f"Không tìm thấy tệp {file}.", "Kiểm tra đường dẫn.") from exc
        except UnicodeDecodeError as exc:
            raise InputError(
                f"Tệp {file} không phải văn bản UTF-8.", "Lưu lại tệp với mã hóa UTF-8."
            ) from exc
    if not sys.stdin.isatty():
        return sys.stdin.read()
    edited = click.edit(initial, extension=".txt")
    if edited is None:
        raise InputError("Chưa nhập nội dung.", "Viết nội dung trong trình soạn thảo rồi lưu lại.")
    return edited


@click.group()
def bulletin() -> None:
    """Bản tin: viết, sửa, gửi duyệt, duyệt, trả lại, ngừng phát, xem."""


_VOICE_HELP = "Giọng đọc, ví dụ espeak:vi-vn-x-south (xem: broadcaster bulletin voices); mặc định của đài."
_SPEED_HELP = "Tốc độ đọc từ 0,8 đến 1,25 lần (1 là bình thường), giữ nguyên cao độ giọng."
voice_option = click.option("--voice", metavar="GIỌNG", help=_VOICE_HELP)
speed_option = click.option("--speed", metavar="SỐ", help=_SPEED_HELP)


def _reading(voice: str, speed: float) -> str:
    """ "Giọng nam miền Nam (espeak-ng), tốc độ 1,1×"."""
    return f"{labels.voice(voice)}, tốc độ {labels.speed(speed)}"


@bulletin.command("voices")
@json_option
@pass_state
def voices(state: State, as_json: bool) -> None:
    """Các giọng đọc có trên máy của đài, và giọng, tốc độ mặc định."""
    offer = state.app.voices
    rows = [{"voice": v.id, "label": v.label, "default": v.id == offer.default_voice} for v in offer.voices]
    if as_json:
        defaults = {"default_voice": offer.default_voice, "default_speed": offer.default_speed}
        print_json({"voices": rows, **defaults})
        return
    print_table(
        ["Giọng", "Tên", "Mặc định"], [(r["voice"], r["label"], "✓" if r["default"] else "") for r in rows]
    )
    click.echo(f"Tốc độ đọc mặc định: {labels.speed(offer.default_speed)}")


@bulletin.command("add")
@click.option("--campaign", required=True, metavar="MÃ", help="Mã chiến dịch.")
@click.option("--title", required=True, help="Tiêu đề bản tin.")
@click.option("--agency", default="", help="Cơ quan cung cấp nội dung.")
@click.option(
    "--file", "file", metavar="TỆP", help="Đọc nội dung từ tệp ('-' là stdin); không có thì mở $EDITOR."
)
@click.option(
    "--audio",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    metavar="TỆP",
    help="Bản ghi âm của cán bộ (MP3, WAV, M4A, OGG, FLAC, WebM) thay lời đọc máy; tiêu đề là phần mô tả.",
)
@voice_option
@speed_option
@actor_option
@pass_state
def add(
    state: State,
    campaign: str,
    title: str,
    agency: str,
    file: str | None,
    audio: Path | None,
    voice: str | None,
    speed: str | None,
    actor: str | None,
) -> None:
    """Viết bản tin mới (bản nháp)."""
    app = state.app
    if audio is not None:
        if file is not None:
            raise InputError(
                "Chỉ dùng một trong hai: --file hoặc --audio.", "Bản ghi âm không cần nội dung chữ."
            )
        if voice is not None or speed is not None:
            raise InputError(
                "Bản ghi âm được phát đúng như đã ghi: không chọn được giọng hay tốc độ.",
                "Bỏ --voice và --speed khi dùng --audio.",
            )
        row_id = _add_recording(app, state, campaign, title, agency, audio, actor)
        click.echo(
            f"Đã lưu bản tin số {row_id} (bản ghi âm, bản nháp). "
            f"Gửi duyệt: broadcaster bulletin submit {row_id}"
        )
        return
    offer = app.voices
    bulletins.choose_reading(offer, voice, speed)  # a bad voice or speed is refused before the editor opens
    text = _read_text(file)
    with app.station_tx(state.station) as (s, station):
        row = bulletins.add(
            s,
            station_id=station.id,
            campaign_code=campaign,
            title=title,
            agency=agency,
            text=text,
            actor=actor,
            now=app.clock.now(),
            speak=app.speak,
            voice=voice,
            speed=speed,
            offer=offer,
        )
        rev = bulletins.latest_revision(row)
        click.echo(
            f"Đã lưu bản tin số {row.id} (bản nháp; {_reading(rev.voice, rev.speed)}). "
            f"Gửi duyệt: broadcaster bulletin submit {row.id}"
        )


def _add_recording(
    app: App, state: State, campaign: str, title: str, agency: str, audio: Path, actor: str | None
) -> int:
    """Normalise the recording, then store bulletin, revision and render; on any error nothing is kept."""
    settings = app.media_settings()
    max_s = app.config.audio.max_recording_minutes * 60
    # The transaction commits inside the import: the file is placed only after the rows exist.
    with (
        media.import_recording(audio, settings, max_duration_s=max_s) as recording,
        app.station_tx(state.station) as (s, station),
    ):
        row = bulletins.add(
            s,
            station_id=station.id,
            campaign_code=campaign,
            title=title,
            agency=agency,
            text=f"Bản ghi âm: {title.strip()}",
            actor=actor,
            now=app.clock.now(),
            speak=app.speak,
            recording=recording,
        )
        return row.id


@bulletin.command("edit")
@click.argument("bulletin_id", type=int)
@click.option(
    "--file", "file", metavar="TỆP", help="Nội dung mới từ tệp ('-' là stdin); không có thì mở $EDITOR."
)
@click.option(
    "--keep-airings",
    is_flag=True,
    help="Giữ các lượt phát đã xếp, phát theo phiên bản đã duyệt (chỉ lãnh đạo hoặc nhân viên vận hành).",
)
@voice_option
@speed_option
@actor_option
@pass_state
def edit(
    state: State,
    bulletin_id: int,
    file: str | None,
    keep_airings: bool,
    voice: str | None,
    speed: str | None,
    actor: str | None,
) -> None:
    """Sửa bản tin: nội dung, giọng đọc hoặc tốc độ; tạo phiên bản mới (phải duyệt lại; các lượt phát
    sắp tới được gỡ khỏi lịch). Chỉ đổi --voice/--speed thì giữ nguyên nội dung."""
    app = state.app
    with app.tx() as s:
        current = bulletins.latest_revision(bulletins.get(s, bulletin_id)).text
    only_reading = file is None and (voice is not None or speed is not None)
    text = current if only_reading else _read_text(file, current)
    with app.tx() as s:
        result = bulletins.edit(
            s,
            bulletin_id,
            text,
            actor=actor,
            now=app.clock.now(),
            speak=app.speak,
            keep_airings=keep_airings,
            voice=voice,
            speed=speed,
            offer=app.voices,
        )
        zone = station_zone_of(s, result.revision.bulletin.station_id)
        reading = _reading(result.revision.voice, result.revision.speed)
    click.echo(
        f"Đã lưu phiên bản {result.revision.number} của bản tin {bulletin_id} ({reading}); cần gửi duyệt lại."
    )
    if result.kept:
        click.echo(f"Giữ {result.kept} lượt phát sắp tới, phát theo phiên bản đã duyệt trước đó.")
    _echo_withdrawn(result.withdrawn, zone)


def _echo_withdrawn(withdrawn: list[Withdrawn], zone: ZoneInfo) -> None:
    """One line: how many future airings left the plan, when, and who had queued them (to tell them)."""
    if not withdrawn:
        return
    when = ", ".join(f"{w.planned_start.astimezone(zone):%d/%m %H:%M}" for w in withdrawn)
    who = ", ".join(sorted({w.queued_by for w in withdrawn}))
    click.echo(f"Đã gỡ {len(withdrawn)} lượt phát sắp tới khỏi lịch ({when}; người xếp: {who}).")


@bulletin.command("submit")
@click.argument("bulletin_id", type=int)
@actor_option
@pass_state
def submit(state: State, bulletin_id: int, actor: str | None) -> None:
    """Gửi bản tin cho lãnh đạo duyệt."""
    with state.app.tx() as s:
        bulletins.submit(s, bulletin_id, actor=actor, now=state.app.clock.now())
    click.echo(f"Đã gửi duyệt bản tin {bulletin_id}.")


@bulletin.command("approve")
@click.argument("bulletin_id", type=int)
@click.option(
    "--spoken-hash", metavar="SHA", help="Mã băm lời đọc đã xem (từ 'bulletin show'); duyệt đúng bản đó."
)
@click.option("--yes", is_flag=True, help="Không hỏi xác nhận.")
@actor_option
@pass_state
def approve(state: State, bulletin_id: int, spoken_hash: str | None, yes: bool, actor: str | None) -> None:
    """Duyệt bản tin: xem đúng lời sẽ được đọc trên loa rồi xác nhận."""
    app = state.app
    with app.tx() as s:
        rev = bulletins.latest_revision(bulletins.get(s, bulletin_id))
        spoken, digest, recording = rev.spoken_text, rev.spoken_sha256, rev.source_audio
        reading = _reading(rev.voice, rev.speed)
    if not yes:
        if recording:
            click.echo(f"Bản ghi âm sẽ được phát: {recording}\n({spoken})")
            click.echo(f"Nghe trước: broadcaster speech render --bulletin {bulletin_id} -o nghe-thu.mp3")
        else:
            click.echo(f"Lời sẽ được đọc trên loa ({reading}):\n")
            click.echo(spoken)
        click.echo(f"\nMã băm lời đọc: {digest[:12]}")
        click.confirm("Duyệt đúng nội dung này?", abort=True)
    with app.tx() as s:
        rev = bulletins.approve(
            s, bulletin_id, actor=actor, now=app.clock.now(), seen_sha256=spoken_hash or digest
        )
        number, approved_sha = rev.number, rev.approved_sha256 or ""
    click.echo(f"Đã duyệt bản tin {bulletin_id}, phiên bản {number} (lời đọc {approved_sha}).")
    _render_approved(app, bulletin_id)


def _render_approved(app: App, bulletin_id: int) -> None:
    """Make the air audio now; a failure leaves the approval standing and the audio for later."""
    from broadcaster.services.bulletin_audio import render_approved

    try:
        with app.tx() as s:
            audio = render_approved(s, bulletin_id, app.renderer, app.media_settings(), now=app.clock.now())
            engine, kind, duration, fallback = audio.engine, audio.kind, audio.duration_s, audio.fallback
            chosen = bulletins.approved_revision(bulletins.get(s, bulletin_id)).voice
            first = media.preferred_engine(chosen, app.renderer.first_engine)
    except BroadcasterError as exc:
        click.echo(
            f"Chưa tạo được âm thanh ({exc.one_line()}). Việc duyệt vẫn có hiệu lực; "
            "âm thanh sẽ được tạo sau bằng: broadcaster speech render"
        )
        return
    voice = "bản ghi âm" if kind == "recording" else f"giọng {engine}"
    click.echo(f"Đã tạo âm thanh: {duration:.1f} giây, {voice}.")
    if kind == "speech" and fallback:
        click.echo(fallback_note(engine, first))


@bulletin.command("reject")
@click.argument("bulletin_id", type=int)
@click.option("--reason", required=True, help="Lý do trả lại.")
@actor_option
@pass_state
def reject(state: State, bulletin_id: int, reason: str, actor: str | None) -> None:
    """Trả lại bản tin kèm lý do."""
    with state.app.tx() as s:
        bulletins.reject(s, bulletin_id, reason, actor=actor, now=state.app.clock.now())
    click.echo(f"Đã trả lại bản tin {bulletin_id}.")


@bulletin.command("retire")
@click.argument("bulletin_id", type=int)
@actor_option
@pass_state
def retire(state: State, bulletin_id: int, actor: str | None) -> None:
    """Ngừng phát bản tin: các lượt phát sắp tới của nó được gỡ khỏi lịch."""
    with state.app.tx() as s:
        result = bulletins.retire(s, bulletin_id, actor=actor, now=state.app.clock.now())
        zone = station_zone_of(s, result.bulletin.station_id)
    click.echo(f"Đã ngừng phát bản tin {bulletin_id}.")
    _echo_withdrawn(result.withdrawn, zone)


@bulletin.command("list")
@click.option("--campaign", metavar="MÃ")
@click.option("--status", type=click.Choice([s.value for s in BulletinStatus]))
@json_option
@pass_state
def list_(state: State, campaign: str | None, status: str | None, as_json: bool) -> None:
    """Danh sách bản tin."""
    with state.app.station_tx(state.station) as (s, station):
        if campaign:
            bulletins.find_campaign(s, station.id, campaign)  # an unknown code is an error, not an empty list
        rows = [
            {
                "id": b.id,
                "campaign": b.campaign.code,
                "campaign_title": b.campaign.title,
                "title": b.title,
                "agency": b.agency,
                "status": b.status,
                "revision": bulletins.latest_revision(b).number,
            }
            for b in bulletins.list_bulletins(s, station.id, campaign, status)
        ]
    if as_json:
        print_json(rows)
        return
    print_table(
        ["Số", "Chiến dịch", "Tiêu đề", "Cơ quan", "Trạng thái", "Bản"],
        [
            (
                r["id"],
                shorten(str(r["campaign_title"])),
                r["title"],
                r["agency"],
                labels.bulletin_status(str(r["status"])),
                r["revision"],
            )
            for r in rows
        ],
    )


def _first_engine(app: App) -> str | None:
    """The preferred TTS engine, or None when the engine configuration is broken (show still works)."""
    try:
        return app.renderer.first_engine
    except BroadcasterError:
        return None


@bulletin.command("show")
@click.argument("bulletin_id", type=int)
@json_option
@pass_state
def show(state: State, bulletin_id: int, as_json: bool) -> None:
    """Xem bản tin: nội dung, lời đọc, các phiên bản, âm thanh và các lần phát gần đây."""
    app = state.app
    first = _first_engine(app)
    from broadcaster.services.stations import session_names

    with app.tx() as s:
        b = bulletins.get(s, bulletin_id)
        zone = station_zone_of(s, b.station_id)
        names = session_names(s, b.station_id)
        revs = [
            {
                "number": r.number,
                "author": r.author,
                "created_at": r.created_at,
                "approval": r.approval,
                "approved_by": r.approved_by,
                "approved_at": r.approved_at,
                "spoken_sha256": r.spoken_sha256,
                "text": r.text,
                "spoken_text": r.spoken_text,
                "source_audio": r.source_audio,
                "reject_reason": r.reject_reason,
                "voice": r.voice,
                "speed": r.speed,
            }
            for r in b.revisions
        ]
        latest = bulletins.latest_revision(b)
        current = media.current_render(s, latest)
        renders = [media.render_summary(r, first, latest.voice) for r in media.renders_of(s, latest)]
        airings: list[dict[str, object]] = [
            {
                "seq": a.seq,
                "session_code": a.session_code,
                "planned_start": a.planned_start,
                "actual_start": a.actual_start,
                "outcome": a.outcome,
                "played_s": round(a.played_ms / 1000, 1),
                "trigger": a.trigger,
                "revision_number": a.revision_number,
            }
            for a in bulletins.recent_airings(s, b.id)
        ]
        data = {
            "id": b.id,
            "title": b.title,
            "campaign": b.campaign.code,
            "campaign_title": b.campaign.title,
            "agency": b.agency,
            "status": b.status,
            "revisions": revs,
            "renders": renders,
            "on_fallback_voice": bool(
                current and first and media.revision_on_fallback(current, latest, first)
            ),
            "airings": airings,
        }
        fallback_engine = current.engine if current is not None else ""
        preferred = media.preferred_engine(latest.voice, first) if first else None
    if as_json:
        print_json(data)
        return
    last = revs[-1]
    click.echo(f"Bản tin {data['id']}: {data['title']}")
    agency = f"; cơ quan cung cấp: {data['agency']}" if data["agency"] else ""
    click.echo(f"Chiến dịch: {data['campaign_title']}{agency}")
    click.echo(f"Trạng thái: {labels.bulletin_status(str(data['status']))}; phiên bản {last['number']}")
    click.echo("\nNội dung:\n" + str(last["text"]).strip())
    if last["source_audio"]:
        click.echo(f"\nBản ghi âm: {last['source_audio']}")
    else:
        click.echo("\nLời đọc trên loa:\n" + str(last["spoken_text"]).strip())
        click.echo(f"\nGiọng đọc: {_reading(str(last['voice']), float(str(last['speed'])))}")
    click.echo(f"\nMã băm lời đọc: {last['spoken_sha256']}")
    click.echo("\nCác phiên bản:")
    for r in revs:
        extra = f", duyệt bởi {r['approved_by']}" if r["approved_by"] else ""
        written, state_ = _local(r["created_at"], zone), labels.approval(str(r["approval"]))
        click.echo(f"  {r['number']}: {r['author']} viết lúc {written}: {state_}{extra}")
    _echo_renders(renders, int(str(last["number"])))
    if data["on_fallback_voice"] and preferred:
        click.echo(fallback_note(fallback_engine, preferred))
    _echo_airings(airings, zone, names)


def _local(value: object, zone: ZoneInfo) -> str:
    """An instant as the station's local "dd/mm/yyyy HH:MM:SS", or "" when there is none."""
    return value.astimezone(zone).strftime("%d/%m/%Y %H:%M:%S") if isinstance(value, datetime) else ""


def _echo_renders(renders: list[dict[str, object]], number: int) -> None:
    click.echo(f"\nÂm thanh của phiên bản {number}:")
    if not renders:
        click.echo("  (chưa có — tạo bằng: broadcaster speech render)")
        return
    print_table(
        ["Bộ đọc", "Giọng", "Giây", "LUFS", "Đỉnh dBTP", "sha256", "Tình trạng"],
        [
            (
                r["engine"],
                r["voice"],
                f"{r['duration_s']:.1f}",
                _num(r["integrated_lufs"]),
                _num(r["true_peak_dbtp"]),
                r["sha256"],
                "nguyên vẹn" if r["intact"] else "mất/hỏng",
            )
            for r in renders
        ],
    )


def _echo_airings(airings: list[dict[str, object]], zone: ZoneInfo, names: dict[str, str]) -> None:
    click.echo(f"\nCác lần phát gần đây ({len(airings)}):")
    if not airings:
        click.echo("  (chưa phát lần nào)")
        return
    print_table(
        ["Bắt đầu", "Buổi", "Kết quả", "Giây", "Kích hoạt", "Bản"],
        [
            (
                _local(a["actual_start"] or a["planned_start"], zone),
                labels.session_name(str(a["session_code"] or ""), names.get(str(a["session_code"]), "")),
                labels.outcome(str(a["outcome"])),
                a["played_s"],
                labels.trigger(str(a["trigger"])),
                a["revision_number"],
            )
            for a in airings
        ],
    )


def _num(value: object) -> str:
    return f"{value:.1f}" if isinstance(value, float) else ""


COMMANDS = [bulletin]
