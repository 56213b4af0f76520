"""An HTTP interceptor for Google's TTS endpoint answering with real MP3 bytes, so gTTS's own code runs."""

from __future__ import annotations

import base64
import json
import re
import subprocess
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
import requests
import responses

BATCHEXECUTE = re.compile(r"https://translate\.google\.[a-z.]+/_/TranslateWebserverUi/data/batchexecute")

# What the fake does for one request: serve audio, answer with an HTTP status, or raise (network failure).
Outcome = int | BaseException


@dataclass(frozen=True)
class GoogleCall:
    """One request gTTS sent: the decoded RPC payload and the transport settings it used."""

    url: str
    text: str
    lang: str
    speed: Any
    timeout: Any


@dataclass
class FakeGoogle:
    """Stands in for translate.google.*: records each request and plays scripted failures first."""

    mp3: bytes
    calls: list[GoogleCall] = field(default_factory=list)
    served: list[bytes] = field(default_factory=list)
    _script: deque[Outcome | None] = field(default_factory=deque)
    _always: Outcome | None = None

    def fail_next(self, *outcomes: Outcome | None) -> None:
        """Answer the next requests with these statuses or exceptions (None: serve audio), then audio."""
        self._script.extend(outcomes)

    def fail_always(self, outcome: Outcome | None) -> None:
        """Answer every request with `outcome` (None: back to serving audio)."""
        self._always = outcome

    def handle(self, request: requests.PreparedRequest) -> Any:
        """The `responses` callback: decode the RPC as Google would, then answer."""
        body = request.body.decode() if isinstance(request.body, bytes) else str(request.body)
        rpc = json.loads(parse_qs(body)["f.req"][0])
        assert rpc[0][0][0] == "jQ1olc", rpc
        text, lang, speed, _ = json.loads(rpc[0][0][1])
        kwargs = getattr(request, "req_kwargs", {})
        self.calls.append(GoogleCall(str(request.url), text, lang, speed, kwargs.get("timeout")))
        outcome = self._script.popleft() if self._script else self._always
        if isinstance(outcome, BaseException):
            return outcome
        if isinstance(outcome, int):
            return outcome, {"Content-Type": "text/html"}, f"<html>Error {outcome}</html>"
        self.served.append(self.mp3)
        return 200, {"Content-Type": "application/json; charset=utf-8"}, google_body(self.mp3)


def google_body(mp3: bytes) -> str:
    """A batchexecute answer in Google's framing: XSSI guard, length line, then the wrb.fr envelope."""
    payload = json.dumps([base64.b64encode(mp3).decode("ascii")])
    envelope = [
        ["wrb.fr", "jQ1olc", payload, None, None, None, "generic"],
        ["di", 58],
        ["af.httprm", 57, "-1212712718765281352", 7],
    ]
    line = json.dumps(envelope, separators=(",", ":"))
    return f')]}}\'\n\n{len(line)}\n{line}\n25\n[["e",4,null,null,{len(line) + 60}]]\n'


@pytest.fixture(scope="session")
def google_mp3(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """Real MP3 bytes (espeak-ng speech, libmp3lame 24 kHz mono 32 kb/s, no tags) as Google sends them."""
    folder = tmp_path_factory.mktemp("google-mp3")
    wav, mp3 = folder / "clip.wav", folder / "clip.mp3"
    subprocess.run(
        ["espeak-ng", "-v", "vi", "-b", "1", "--stdin", "-w", str(wav)],
        input="Xin chào bà con.".encode(),
        check=True,
        capture_output=True,
    )
    encode = ["ffmpeg", "-v", "error", "-y", "-i", str(wav), "-c:a", "libmp3lame", "-ar", "24000", "-ac", "1"]
    encode += ["-b:a", "32k", "-id3v2_version", "0", "-write_xing", "0", "-map_metadata", "-1", str(mp3)]
    subprocess.run(encode, check=True, capture_output=True)
    data = mp3.read_bytes()
    assert data[:2] in (b"\xff\xf3", b"\xff\xf2", b"\xff\xfb"), data[:4]
    return data


@pytest.fixture
def fake_google(google_mp3: bytes) -> Iterator[FakeGoogle]:
    """Intercept gTTS's HTTP (nothing reaches the network) and answer with real MP3 bytes."""
    fake = FakeGoogle(mp3=google_mp3)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_callback(responses.POST, BATCHEXECUTE, callback=fake.handle)
        yield fake


@pytest.fixture
def audio_probe() -> Any:
    """ffprobe a file: (codec name, sample rate, channels, duration in seconds)."""

    def probe(path: Path) -> tuple[str, int, int, float]:
        args = ["ffprobe", "-v", "error", "-show_entries", "stream=codec_name,sample_rate,channels"]
        args += ["-show_entries", "format=duration", "-of", "json", str(path)]
        out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
        info = json.loads(out)
        stream = info["streams"][0]
        return (
            stream["codec_name"],
            int(stream["sample_rate"]),
            int(stream["channels"]),
            float(info["format"]["duration"]),
        )

    return probe
