"""scripts/install-service: the daemon's unit, and with --web the console's, for one home and account."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "install-service"
BIN = str(Path(sys.executable).with_name("broadcaster"))


def dry_run(*args: str) -> subprocess.CompletedProcess[str]:
    argv = [str(SCRIPT), "--dry-run", "--home", "/var/lib/bc", "--user", "bc", "--bin", BIN, *args]
    return subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)


def unfilled(text: str) -> list[str]:
    """Template fields left in the settings (comments may mention the @...@ form)."""
    return [line for line in text.splitlines() if "@" in line and not line.startswith("#")]


def exec_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("ExecStart=")]


def test_without_web_only_the_daemon_unit_is_printed() -> None:
    done = dry_run("--station", "phu-thu")
    assert done.returncode == 0, done.stderr
    assert exec_lines(done.stdout) == [f"ExecStart={BIN} run"]
    assert "Environment=BROADCASTER_STATION_CODE=phu-thu" in done.stdout
    assert unfilled(done.stdout) == []  # every template field filled


def test_with_web_the_console_runs_on_the_same_home_and_account() -> None:
    done = dry_run("--web", "--web-host", "0.0.0.0", "--web-port", "8090")
    assert done.returncode == 0, done.stderr
    daemon, console = done.stdout.split("# --- broadcaster-web.service ---")
    assert exec_lines(daemon) == [f"ExecStart={BIN} run"]
    assert exec_lines(console) == [f"ExecStart={BIN} web --host 0.0.0.0 --port 8090"]
    for unit in (daemon, console):
        assert "User=bc" in unit and "Environment=BROADCASTER_HOME=/var/lib/bc" in unit
    assert unfilled(done.stdout) == []
    # The console's ExecStart is a command line the CLI accepts.
    check = subprocess.run([BIN, "web", "--help"], capture_output=True, text=True, timeout=60, check=False)
    assert check.returncode == 0 and "--host" in check.stdout and "--port" in check.stdout


def test_a_port_that_is_not_a_number_is_refused_in_one_line() -> None:
    done = dry_run("--web", "--web-port", "tám")
    assert done.returncode == 2
    assert done.stderr.strip() == "install-service: --web-port must be a number (e.g. 8080)"
