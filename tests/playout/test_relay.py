"""Relays against a real local Icecast server fed by ffmpeg, played to a PulseAudio null sink whose monitor
is recorded: the stream, cut mid-relay (the server killed) and restored; the recording holds the
stream, silence, the filler, the stream again; the result's drop-out matches the recording within 1 s."""

from __future__ import annotations

import subprocess
import threading
import time
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from icecast import TONE_HZ, IcecastServer
from pulse import PulseServer, Recorder

from broadcaster.clock import SystemClock
from broadcaster.errors import PlayoutError
from broadcaster.playout.relay import PacatSink, Relay, RelaySpec, WavSink

RATE = 48000
FILLER_HZ = 1000
WINDOW_S = 0.1


def tone(path: Path, hz: int, seconds: float) -> Path:
    subprocess.run(
        [
            "ffmpeg",
            "-nostdin",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            f"sine=frequency={hz}:duration={seconds}",
            str(path),
        ],
        check=True,
    )
    return path


def labels_of(samples: npt.NDArray[np.int16]) -> list[str]:
    """Per 100 ms of output: "s" (the stream's tone), "f" (the filler's), "." (silence) or "?"."""
    step = int(RATE * WINDOW_S)
    out = []
    for i in range(0, len(samples) - step + 1, step):
        frame = samples[i : i + step].astype(np.float64)
        if np.sqrt(np.mean(frame**2)) < 100:
            out.append(".")
            continue
        spectrum = np.abs(np.fft.rfft(frame * np.hanning(len(frame))))
        peak = np.fft.rfftfreq(len(frame), 1 / RATE)[int(np.argmax(spectrum))]
        out.append("s" if abs(peak - TONE_HZ) < 30 else "f" if abs(peak - FILLER_HZ) < 30 else "?")
    return out


def test_a_relay_cut_mid_way_plays_the_filler_and_the_stream_again(
    tmp_path: Path, pulse_server: PulseServer, recorder: Recorder
) -> None:
    filler = tone(tmp_path / "nhac-hieu.wav", FILLER_HZ, 2.0)
    with IcecastServer() as ice:
        spec = RelaySpec(ice.mount_url, duration_s=16.0, silence_s=1.0, filler=filler, backoff_s=(0.3, 0.6))
        relay = Relay(spec, lambda: PacatSink(pulse_server.sink), SystemClock())
        relay.open()
        time.sleep(1.0)  # opened ahead of time: the stream is buffering before the start

        def cut_and_restore() -> None:
            time.sleep(4.0)
            ice.cut()
            time.sleep(4.0)
            ice.restore()

        outage = threading.Thread(target=cut_and_restore)
        outage.start()
        result = relay.run()
        outage.join()
    heard = "".join(labels_of(recorder.stop()))
    core = heard.strip(".")
    # The stream, then (after at most a moment of silence) the filler, then the stream again.
    first_gap, back = core.index("f"), core.rindex("f")
    assert set(core[: first_gap - 12]) == {"s"} and "s" * 20 in core[back:]
    assert "." * 8 in core[first_gap - 15 : first_gap]  # about 1 s of silence before the filler
    # Nothing else was heard: a window that is neither sits on a boundary (half silence, half filler).
    unknown = [i for i, c in enumerate(core) if c == "?"]
    assert all(0 < i < len(core) - 1 and core[i - 1] != core[i + 1] for i in unknown), heard
    [dropout] = result.dropouts
    last_stream = core[:first_gap].rindex("s") + 1  # the gap runs from the stream's end to its return
    resumed = back + 1
    measured = (resumed - last_stream) * WINDOW_S
    assert abs(dropout.length_s - measured) <= 1.0, (dropout, measured, heard)
    assert result.filler_s > 1.0 and result.reconnects >= 1
    assert abs(result.received_s + dropout.length_s - spec.duration_s) < 1.0
    assert result.error is None and not result.stopped


def test_a_relay_ends_at_its_length_into_a_file_and_stop_cuts_it(tmp_path: Path) -> None:
    with IcecastServer() as ice:
        out = tmp_path / "relay.wav"
        relay = Relay(RelaySpec(ice.mount_url, duration_s=3.0), lambda: WavSink(out), SystemClock())
        relay.open()
        time.sleep(1.5)  # opened ahead, as the daemon does: the first second is the stream, not silence
        result = relay.run()
        assert result.dropouts == () and result.received_s > 2.5
        frames = np.frombuffer(out.read_bytes()[44:], dtype=np.int16)
        assert abs(len(frames) / RATE - 3.0) < 0.05
        assert set("".join(labels_of(frames)).strip(".")) == {"s"}
        cut = Relay(RelaySpec(ice.mount_url, duration_s=30.0), lambda: WavSink(out), SystemClock())
        threading.Timer(1.0, cut.stop).start()
        stopped = cut.run()
    assert stopped.stopped and stopped.played_s < 3.0


def test_a_source_that_never_answers_plays_the_filler_and_says_so(tmp_path: Path) -> None:
    filler = tone(tmp_path / "nhac-hieu.wav", FILLER_HZ, 1.0)
    out = tmp_path / "relay.wav"
    spec = RelaySpec("http://127.0.0.1:9/khong-co.mp3", duration_s=3.0, silence_s=0.5, filler=filler)
    result = Relay(spec, lambda: WavSink(out), SystemClock()).run()
    assert result.received_s == 0 and result.filler_s > 2.0 and result.error
    heard = "".join(labels_of(np.frombuffer(out.read_bytes()[44:], dtype=np.int16)))
    assert heard.startswith(".....") and "f" * 20 in heard


def test_an_unreadable_filler_is_refused_before_air(tmp_path: Path) -> None:
    bad = tmp_path / "hong.mp3"
    bad.write_bytes(b"not audio")
    with pytest.raises(PlayoutError) as refused:
        Relay(
            RelaySpec("http://127.0.0.1:9/x", 1.0, filler=bad),
            lambda: WavSink(tmp_path / "x.wav"),
            SystemClock(),
        )
    assert "tệp phát thay thế" in refused.value.message


def test_a_relay_from_a_capture_device_carries_what_the_device_hears(
    tmp_path: Path, pulse_server: PulseServer
) -> None:
    # The FM receiver's line-in, here the null sink's monitor with a tone played into the sink.
    feed = tone(tmp_path / "fm.wav", TONE_HZ, 8.0)
    player = subprocess.Popen(["paplay", "-d", pulse_server.sink, str(feed)])
    try:
        out = tmp_path / "relay.wav"
        spec = RelaySpec(f"device:{pulse_server.sink}.monitor", duration_s=3.0)
        relay = Relay(spec, lambda: WavSink(out), SystemClock())
        relay.open()
        time.sleep(1.5)
        result = relay.run()
    finally:
        player.terminate()
        player.wait(5)
    heard = "".join(labels_of(np.frombuffer(out.read_bytes()[44:], dtype=np.int16)))
    assert result.received_s > 2.5 and result.dropouts == ()
    assert heard.count("s") >= 25, heard
