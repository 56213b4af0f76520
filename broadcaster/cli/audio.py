"""`broadcaster audio`: measure loudness and normalise files the way air audio is normalised."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import click

from broadcaster.audio.loudness import format_for_path, measure, normalize
from broadcaster.cli.common import State, json_option, pass_state, print_json, print_table
from broadcaster.errors import InputError


def _existing(path: Path) -> Path:
    if not path.is_file():
        raise InputError(f"Không tìm thấy tệp âm thanh {path}.", "Kiểm tra đường dẫn.")
    return path


@click.group()
def audio() -> None:
    """Âm thanh: đo độ lớn (LUFS, BS.1770) và chuẩn hóa tệp."""


@audio.command("measure")
@click.argument("file", type=click.Path(path_type=Path))
@json_option
def measure_(file: Path, as_json: bool) -> None:
    """Đo độ lớn tích hợp, dải độ lớn, đỉnh thực, độ dài của FILE."""
    result = measure(_existing(file))
    data = result.to_json_dict()
    if as_json:
        print_json(data)
        return
    labels = {
        "integrated_lufs": "Độ lớn tích hợp (LUFS)",
        "loudness_range_lu": "Dải độ lớn (LU)",
        "true_peak_dbtp": "Đỉnh thực (dBTP)",
        "sample_peak_dbfs": "Đỉnh mẫu (dBFS)",
        "duration_s": "Độ dài (giây)",
        "sample_rate": "Tần số lấy mẫu (Hz)",
        "channels": "Số kênh",
    }
    print_table(["Chỉ số", "Giá trị"], [(labels[k], "-" if v is None else v) for k, v in data.items()])


@audio.command("normalize")
@click.argument("src", type=click.Path(path_type=Path))
@click.argument("dst", type=click.Path(path_type=Path))
@click.option("--target", type=float, help="Độ lớn đích (LUFS); mặc định theo cấu hình (−16).")
@click.option("--true-peak", type=float, help="Trần đỉnh thực (dBTP); mặc định theo cấu hình (−1.5).")
@json_option
@pass_state
def normalize_(
    state: State, src: Path, dst: Path, target: float | None, true_peak: float | None, as_json: bool
) -> None:
    """Chuẩn hóa SRC về độ lớn đích (có bộ hạn chế đỉnh thực) và ghi ra DST."""
    app = state.app
    goal = app.loudness_target
    if target is not None:
        goal = replace(goal, integrated_lufs=target)
    if true_peak is not None:
        goal = replace(goal, true_peak_dbtp=true_peak)
    fmt = format_for_path(dst, app.output_format)
    result = normalize(_existing(src), dst, goal, fmt)
    if as_json:
        print_json(result.to_json_dict())
    else:
        click.echo(
            f"Đã ghi {dst}: {result.integrated_lufs:.1f} LUFS, đỉnh thực {result.true_peak_dbtp:.1f} dBTP, "
            f"{result.duration_s:.1f} giây."
        )


COMMANDS = [audio]
