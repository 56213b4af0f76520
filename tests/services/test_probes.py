"""The self-check's probes: time services' captured output parsed; the network probe on local servers."""

from __future__ import annotations

import http.server
import socket
import threading
from collections.abc import Iterator

import pytest

from broadcaster.services import doctor
from broadcaster.services.doctor import Status
from broadcaster.services.probes import (
    ClockState,
    parse_chronyc_tracking,
    parse_ntpq_rv,
    parse_timedatectl,
    parse_w32tm_status,
)
from broadcaster.services.system_probes import SystemNetwork

# -- Google (a real HTTP client against local servers) ----------------------------------------------


@pytest.fixture
def http_server() -> Iterator[str]:
    """A local HTTP server that answers every request."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_HEAD(self) -> None:
            self.send_response(405)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def test_any_http_answer_means_reachable(http_server: str) -> None:
    check = doctor.check_google(SystemNetwork().reach(http_server, 2.0))
    assert check.status is Status.OK and "HTTP 405" in check.found


def test_a_refused_connection_is_a_warning() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again before the request: nothing listens there
    check = doctor.check_google(SystemNetwork().reach(f"http://127.0.0.1:{port}/", 2.0))
    assert check.status is Status.WARN and "từ chối" in check.found


def test_a_host_that_never_answers_is_a_warning_after_the_timeout() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)  # accepts the connection, never answers
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/"
        check = doctor.check_google(SystemNetwork().reach(url, 0.3))
    assert check.status is Status.WARN and "hết thời gian chờ" in check.found


CHRONY_SYNCED = """\
Reference ID    : A29FC87B (time.cloudflare.com)
Stratum         : 4
Ref time (UTC)  : Thu Mar 21 01:02:03 2024
System time     : 0.000123456 seconds slow of NTP time
Last offset     : -0.000045678 seconds
RMS offset      : 0.000234567 seconds
Frequency       : 12.345 ppm fast
Leap status     : Normal
"""
CHRONY_UNSYNCED = """\
Reference ID    : 00000000 ()
Stratum         : 0
Ref time (UTC)  : Thu Jan 01 00:00:00 1970
System time     : 0.000000000 seconds fast of NTP time
Leap status     : Not synchronised
"""
NTPQ_SYNCED = """\
associd=0 status=0615 leap_none, sync_ntp, 1 event, clock_sync,
version="ntpd 4.2.8p15@1.3728-o", processor="x86_64", leap=00, stratum=3,
precision=-23, rootdelay=12.345, rootdisp=23.456, refid=192.0.2.1,
mintc=3, offset=-1.234567, frequency=-12.345, sys_jitter=0.456,
"""
NTPQ_UNSYNCED = "associd=0 status=c016 leap_alarm, sync_unspec, 1 event, restart,\noffset=0.000000,\n"
TIMEDATECTL_SHOW = "Timezone=Asia/Ho_Chi_Minh\nLocalRTC=no\nCanNTP=yes\nNTP=yes\nNTPSynchronized=yes\n"
TIMESYNC_STATUS = """\
       Server: 192.0.2.1 (ntp.ubuntu.com)
Root distance: 23.456ms (max: 5s)
       Offset: -1.234ms
        Delay: 45.678ms
"""
W32TM_SYNCED = """\
Leap Indicator: 0(no warning)
Stratum: 4 (secondary reference - syncd by (S)NTP)
Last Successful Sync Time: 3/21/2024 8:01:02 AM
Source: time.windows.com,0x8
"""
W32TM_CMOS = "Leap Indicator: 3(not synchronized)\nStratum: 0 (unspecified)\nSource: Local CMOS Clock\n"


def test_time_service_parsers_read_captured_output() -> None:
    assert parse_chronyc_tracking(CHRONY_SYNCED) == ClockState(
        "chronyc", True, -0.000123456, "A29FC87B (time.cloudflare.com)"
    )
    unsynced = parse_chronyc_tracking(CHRONY_UNSYNCED)
    assert unsynced is not None and unsynced.synchronised is False
    assert parse_ntpq_rv(NTPQ_SYNCED) == ClockState("ntpq", True, -0.001234567, "")
    assert parse_ntpq_rv(NTPQ_UNSYNCED) == ClockState("ntpq", False, None, "")
    assert parse_timedatectl(TIMEDATECTL_SHOW, TIMESYNC_STATUS) == ClockState("timedatectl", True, -0.001234)
    assert parse_timedatectl(TIMEDATECTL_SHOW.replace("=yes\n", "=no\n")) == ClockState(
        "timedatectl", False, None
    )
    assert parse_w32tm_status(W32TM_SYNCED) == ClockState("w32tm", True, None, "time.windows.com,0x8")
    cmos = parse_w32tm_status(W32TM_CMOS)
    assert cmos is not None and cmos.synchronised is False
    for parse in (parse_chronyc_tracking, parse_ntpq_rv, parse_w32tm_status):
        assert parse("506 Cannot talk to daemon\n") is None
    assert parse_timedatectl("System has not been booted with systemd as init system (PID 1).") is None
