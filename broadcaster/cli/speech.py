"""`broadcaster speech`: see how text will be read, preview and (re)make the audio of bulletins."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import click

from broadcaster.cli.common import State, json_option, pass_state, print_json, print_table
from broadcaster.errors import EngineError, InputError

if TYPE_CHECKING:
    from broadcaster.app import App

# The labels (and the domain under them), the services and the store (SQLAlchemy) are imported
# inside the commands that use them, so that `speech normalize` starts fast.

T = TypeVar("T")


def fallback_note(engine: str, first_engine: str) -> str:
    """What the officer reads when a bulletin is spoken by the fallback voice."""
    return (
        f"Lưu ý: bản tin đang dùng giọng dự phòng {engine} (chưa gọi được {first_engine}). "
        "Khi có mạng, chạy: broadcaster speech render --upgrade"
    )


def _text_arg(text: str) -> str:
    return sys.stdin.read() if text == "-" else text


@click.group()
def speech() -> None:
    """Lời đọc và âm thanh: xem cách đọc văn bản, nghe thử, tạo âm thanh bản tin."""


@speech.command("normalize")
@click.argument("text")
@click.option("--explain", is_flag=True, help="Liệt kê từng chỗ được đọc khác đi và quy tắc đã dùng.")
@json_option
@pass_state
def normalize_cmd(state: State, text: str, explain: bool, as_json: bool) -> None:
    """In lời sẽ được đọc trên loa cho văn bản TEXT ('-' là stdin)."""
    from broadcaster.speech.normalize import NORMALIZER_VERSION, validate_text

    app = state.app
    checked = validate_text(_text_arg(text), app.config.speech.max_chars)
    spoken = app.normalizer.normalize(checked)
    rewrites = app.normalizer.explain(checked) if (explain or as_json) else []
    if as_json:
        print_json(
            {
                "spoken": spoken,
                "normalizer_version": NORMALIZER_VERSION,
                "rewrites": [{"original": r.original, "spoken": r.spoken, "rule": r.rule} for r in rewrites],
            }
        )
        return
    if explain:
        from broadcaster import labels

        if rewrites:
            print_table(
                ["Viết", "Đọc", "Quy tắc"],
                [
                    (r.original.replace("\n", " "), r.spoken.replace("\n", " "), labels.rewrite_rule(r.rule))
                    for r in rewrites
                ],
            )
        else:
            click.echo("Không có chỗ nào cần đọc khác chữ viết.")
        click.echo("\nLời đọc trên loa:")
    click.echo(spoken)


@speech.command("render")
@click.option("--text", "text", metavar="VĂN_BẢN", help="Nghe thử một văn bản ('-' là stdin); cần -o.")
@click.option(
    "--bulletin", "bulletin_id", type=int, metavar="SỐ", help="Nghe thử bản tin (phiên bản mới nhất)."
)
@click.option(
    "-o", "--output", type=click.Path(path_type=Path), metavar="TỆP", help="Tệp âm thanh ghi ra (nghe thử)."
)
@click.option("--upgrade", is_flag=True, help="Làm lại bằng bộ đọc ưu tiên các bản đang dùng giọng dự phòng.")
@click.option("--voice", metavar="GIỌNG", help="Giọng nghe thử --text (xem: broadcaster bulletin voices).")
@click.option("--speed", metavar="SỐ", help="Tốc độ nghe thử --text, từ 0,8 đến 1,25 lần.")
@pass_state
def render_cmd(
    state: State,
    text: str | None,
    bulletin_id: int | None,
    output: Path | None,
    upgrade: bool,
    voice: str | None,
    speed: str | None,
) -> None:
    """Tạo âm thanh: nghe thử (--text/--bulletin -o TỆP) hoặc mọi bản tin đã duyệt còn thiếu."""
    if text is not None and bulletin_id is not None:
        raise InputError("Chỉ dùng một trong hai: --text hoặc --bulletin.", "Bỏ bớt một tùy chọn.")
    if (voice is not None or speed is not None) and text is None:
        raise InputError(
            "--voice và --speed chỉ dùng với --text (bản tin đọc bằng giọng và tốc độ đã lưu).",
            "Đổi giọng của bản tin bằng: broadcaster bulletin edit SỐ --voice GIỌNG",
        )
    if output is not None:
        if text is None and bulletin_id is None:
            raise InputError(
                "Cần --text hoặc --bulletin khi ghi ra tệp.", "Ví dụ: --bulletin 3 -o nghe-thu.mp3"
            )
        _preview(state.app, text, bulletin_id, output, upgrade, (voice, speed))
        return
    if text is not None or bulletin_id is not None:
        raise InputError("Nghe thử cần tệp ra.", "Thêm -o TỆP, ví dụ: -o nghe-thu.mp3")
    _render_pending(state, upgrade)


def _preview(
    app: App,
    text: str | None,
    bulletin_id: int | None,
    output: Path,
    upgrade: bool,
    chosen: tuple[str | None, str | None] = (None, None),
) -> None:
    """Render one text (in the `chosen` voice and speed) or a bulletin's latest revision (in its own)
    and write it, normalised, to `output`."""
    from broadcaster.services import bulletins, media

    settings = app.media_settings()
    preferred = app.renderer.first_engine
    media.check_output_name(output, settings.fmt)
    if bulletin_id is not None:
        # The latest revision even before approval: the officer listens before submitting.
        with app.tx() as s:
            rev = bulletins.latest_revision(bulletins.get(s, bulletin_id))
            if not rev.source_audio and not rev.spoken_text.strip():
                raise InputError(f"Bản tin {bulletin_id} chưa có nội dung.", "Sửa: broadcaster bulletin edit")
            row = media.ensure_render(s, rev, app.renderer, settings, now=app.clock.now(), upgrade=upgrade)
            src, engine, kind = Path(row.path), row.engine, row.kind
            duration, lufs = row.duration_s, row.integrated_lufs
            preferred = media.preferred_engine(rev.voice, preferred)
    else:
        assert text is not None
        voice, speed = bulletins.choose_reading(app.voices, *chosen)
        spoken = app.speak(_text_arg(text))
        src, _sha, engine, _voice, duration, lufs, _peak = media.render_spoken(
            spoken, app.renderer, settings, upgrade=upgrade, voice=voice, speed=speed
        )
        kind = "speech"
        preferred = media.preferred_engine(voice, preferred)
    media.write_preview(src, output, settings.fmt)
    loud = f", {lufs:.1f} LUFS" if lufs is not None else ""
    voice = "bản ghi âm" if kind == "recording" else f"giọng {engine}"
    click.echo(f"Đã ghi {output} ({duration:.1f} giây{loud}, {voice}).")
    if kind == "speech" and engine != preferred:
        click.echo(fallback_note(engine, preferred))


def _render_pending(state: State, upgrade: bool) -> None:
    """Render every approved bulletin lacking intact audio (and, with upgrade, those on the fallback)."""
    from broadcaster.services.rendering import render_pending

    app = state.app
    first = app.renderer.first_engine
    batch = render_pending(
        app.tx, state.station, app.renderer, app.media_settings(), app.clock, upgrade=upgrade, progress=_bar
    )
    if not batch.approved:
        click.echo("Chưa có bản tin nào được duyệt.")
        return
    if not batch.pending:
        click.echo(f"Cả {batch.approved} bản tin đã duyệt đều đã có âm thanh nguyên vẹn.")
        return
    click.echo(f"Đã tạo âm thanh cho {batch.rendered} bản tin còn thiếu.")
    if upgrade:
        click.echo(
            f"Đã chuyển {batch.upgraded} bản tin sang giọng {first}; "
            f"còn {len(batch.on_fallback)} bản dùng giọng dự phòng."
        )
    elif batch.on_fallback:
        ids = ", ".join(str(i) for i in batch.on_fallback)
        click.echo(
            f"Lưu ý: {len(batch.on_fallback)} bản tin (số {ids}) đang dùng giọng dự phòng. "
            "Khi có mạng, chạy: broadcaster speech render --upgrade"
        )
    raise_failures(batch.failures)


def _bar(items: Sequence[T]) -> AbstractContextManager[Iterable[T]]:
    """A progress bar over more than one bulletin; one is rendered without."""
    if len(items) > 1:
        return click.progressbar(items, label="Đang tạo âm thanh", show_pos=True)
    return nullcontext(items)


def raise_failures(failures: Sequence[tuple[int, str]]) -> None:
    """One error naming every bulletin the batch could not render (used by `demo` too)."""
    if failures:
        detail = "; ".join(f"bản tin {bid}: {message}" for bid, message in failures)
        raise EngineError(
            f"{len(failures)} bản tin chưa tạo được âm thanh. {detail}",
            "Sửa nguyên nhân rồi chạy lại: broadcaster speech render",
        )


COMMANDS = [speech]
