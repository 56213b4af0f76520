"""`broadcaster web` as a station starts it: several worker processes that sign and check forms alike."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests
from seedpaths import SEED

BIN = str(Path(sys.executable).with_name("broadcaster"))


def _run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BROADCASTER_SPEECH_ENGINES": "espeak"}
    return subprocess.run(
        [BIN, *args], input=stdin, capture_output=True, text=True, env=env, timeout=120, check=True
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_two_workers_share_one_secret_so_any_of_them_takes_a_form(clean_env: Path) -> None:
    _run("init")
    _run("schedule", "import", str(SEED))
    _run("user", "passwd", "hung", stdin="mat-khau-van-hanh\nmat-khau-van-hanh\n")
    assert not (clean_env / "web-secret").exists()  # first start: the secret is made by `web` itself
    port = _free_port()
    env = {**os.environ, "BROADCASTER_SPEECH_ENGINES": "espeak"}
    server = subprocess.Popen(
        [BIN, "web", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{base}/dang-nhap", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline and server.poll() is None, "the console did not start"
            time.sleep(0.2)
        browser = requests.Session()
        # Each request may reach either worker: a form token made by one must be taken by the other.
        for _ in range(6):
            page = browser.get(f"{base}/dang-nhap", timeout=10).text
            token = re.search(r'name="csrf" value="([^"]+)"', page)
            assert token is not None
            signed = browser.post(
                f"{base}/dang-nhap",
                data={"name": "hung", "password": "mat-khau-van-hanh", "csrf": token.group(1)},
                allow_redirects=False,
                timeout=10,
            )
            assert signed.status_code == 303, signed.text[:300]
            assert browser.get(f"{base}/", timeout=10).status_code == 200
            browser.post(f"{base}/dang-xuat", data={"csrf": token.group(1)}, timeout=10)
    finally:
        server.terminate()
        out, _ = server.communicate(timeout=30)
    assert out.count("Started server process") == 2 and "Traceback" not in out
    assert (clean_env / "web-secret").is_file()
