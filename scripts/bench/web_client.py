"""Web bench, the client: a keep-alive connection with its cookies, the sign-in form, percentiles."""

from __future__ import annotations

import http.client
import re
from http.cookies import SimpleCookie
from urllib.parse import urlencode

import numpy as np
from web_history import OPERATOR
from web_setup import PASSWORD


class Client:
    """One keep-alive HTTP connection to the console with its own cookies (a browser tab, roughly)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}
        self._conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def request(
        self, method: str, path: str, form: dict[str, str] | None = None
    ) -> tuple[int, http.client.HTTPMessage, bytes]:
        """Send one request (a form when given) and read the whole answer; keeps the cookies it sets."""
        headers = {"Cookie": self.cookie_header()} if self.cookies else {}
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            self._conn.request(method, path, body=body, headers=headers)
            answer = self._conn.getresponse()
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            self._conn.close()  # the server closed an idle keep-alive connection: once more, anew
            self._conn.request(method, path, body=body, headers=headers)
            answer = self._conn.getresponse()
        data = answer.read()
        for raw in answer.headers.get_all("Set-Cookie") or []:
            jar: SimpleCookie = SimpleCookie()
            jar.load(raw)
            for name, morsel in jar.items():
                if morsel.value and morsel["max-age"] != "0":
                    self.cookies[name] = morsel.value
                else:
                    self.cookies.pop(name, None)
        return answer.status, answer.headers, data

    def cookie_header(self) -> str:
        """The Cookie header this client sends."""
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    def close(self) -> None:
        """Close the connection."""
        self._conn.close()


def csrf_of(html: bytes) -> str:
    """The CSRF token a page put in its forms."""
    found = re.search(rb'name="csrf" value="([^"]+)"', html)
    if found is None:
        raise RuntimeError("the page has no CSRF token")
    return found.group(1).decode()


def sign_in(port: int, name: str = OPERATOR) -> Client:
    """A client signed in through the sign-in form, as a person would."""
    client = Client(port)
    _, _, page = client.request("GET", "/dang-nhap")
    status, _, body = client.request(
        "POST", "/dang-nhap", {"name": name, "password": PASSWORD, "csrf": csrf_of(page)}
    )
    if status != 303 or "bc_session" not in client.cookies:
        raise RuntimeError(f"sign-in as {name} failed: {status} {body[:300]!r}")
    return client


def stats_ms(values: list[float]) -> tuple[float, float, float]:
    """p50, p99 and max, in milliseconds."""
    arr = np.array(values) * 1000
    return float(np.percentile(arr, 50)), float(np.percentile(arr, 99)), float(arr.max())
