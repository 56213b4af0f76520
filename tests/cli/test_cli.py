"""The command line as a user meets it: help, one-line errors with exit code 1, the bulletin workflow."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from seedpaths import SEED

BIN = str(Path(sys.executable).with_name("broadcaster"))


def run(
    *args: str, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the installed console script with the test's environment."""
    full_env = {**os.environ, "BROADCASTER_SPEECH_ENGINES": "espeak", **(env or {})}
    return subprocess.run(
        [BIN, *args], input=stdin, capture_output=True, text=True, env=full_env, timeout=120, check=False
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert result.returncode == 1, result
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Lỗi"), result.stderr
    for needle in needles:
        assert needle in lines[0]


def test_help_lists_the_commands() -> None:
    result = run("--help")
    assert result.returncode == 0
    for command in ("init", "schedule", "bulletin", "run", "log", "demo", "user"):
        assert f"  {command} " in result.stdout


def test_init_twice_changes_nothing(clean_env: Path) -> None:
    first = run("init")
    assert first.returncode == 0 and "broadcaster.toml" in first.stdout
    config_text = (clean_env / "broadcaster.toml").read_text(encoding="utf-8")
    second = run("init")
    assert second.returncode == 0 and "không có gì thay đổi" in second.stdout
    assert (clean_env / "broadcaster.toml").read_text(encoding="utf-8") == config_text


def test_bad_config_key_is_one_line(clean_env: Path) -> None:
    clean_env.mkdir(parents=True)
    (clean_env / "broadcaster.toml").write_text('[playout]\nplayr = "file"\n', encoding="utf-8")
    assert_one_line_error(run("user", "list"), "playout.playr", "player")


def test_bad_environment_variable_is_one_line() -> None:
    assert_one_line_error(
        run("init", env={"BROADCASTER_PLAYOUT_PLAYR": "file"}), "BROADCASTER_PLAYOUT_PLAYER"
    )


def test_bad_schedule_file_is_rejected_whole(tmp_path: Path) -> None:
    run("init")
    bad = tmp_path / "bad.toml"
    bad.write_text(
        SEED.read_text(encoding="utf-8").replace('start = "06:00"', 'start = "25:00"', 1), encoding="utf-8"
    )
    result = run("schedule", "import", str(bad))
    assert_one_line_error(result, "bad.toml", "25:00")
    assert_one_line_error(run("bulletin", "list"), "Chưa có đài")  # nothing was loaded
    assert_one_line_error(run("schedule", "import", str(tmp_path / "missing.toml")))


def test_command_before_init_says_to_run_init() -> None:
    assert_one_line_error(run("bulletin", "list"), "broadcaster init")


def test_usage_errors_are_one_line_too() -> None:
    assert_one_line_error(run("schedule", "plan", "--from", "2023-03-01"), "--to")
    assert_one_line_error(run("bulletin", "show", "abc"))


@pytest.mark.slow
def test_bulletin_workflow_through_the_cli() -> None:
    assert run("init").returncode == 0
    assert run("schedule", "import", str(SEED)).returncode == 0
    again = run("schedule", "import", str(SEED))
    assert again.returncode == 0 and "không có gì thay đổi" in again.stdout
    assert_one_line_error(
        run(
            "bulletin",
            "add",
            "--campaign",
            "khong-co",
            "--title",
            "T",
            "--file",
            "-",
            "--as",
            "lan",
            stdin="Tin.",
        ),
        "khong-co",
    )
    added = run(
        "bulletin",
        "add",
        "--campaign",
        "ma-tuy-2023",
        "--title",
        "Tin mới",
        "--file",
        "-",
        "--as",
        "lan",
        stdin="Tối 20/3, UBND phường họp lúc 19h30.",
    )
    assert added.returncode == 0, added.stderr
    bid = added.stdout.split("số ")[1].split(" ")[0]
    assert run("bulletin", "submit", bid, "--as", "lan").returncode == 0
    assert_one_line_error(run("bulletin", "approve", bid, "--yes", "--as", "lan"), "lãnh đạo")
    approved = run("bulletin", "approve", bid, "--yes", env={"BROADCASTER_USER": "khoi"})
    assert approved.returncode == 0, approved.stderr
    shown = json.loads(run("bulletin", "show", bid, "--json").stdout)
    assert shown["status"] == "approved"
    rev = shown["revisions"][-1]
    assert rev["approved_by"] == "khoi"
    assert "ngày hai mươi tháng ba" in rev["spoken_text"] and "mười chín giờ ba mươi" in rev["spoken_text"]
