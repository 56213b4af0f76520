"""The composition root: a station may configure no closing words, and the frame shrinks accordingly."""

from __future__ import annotations

import pytest

from broadcaster.app import App, build_app
from broadcaster.config import load_config
from broadcaster.services.stations import find_station


def test_empty_closing_is_left_out(seeded: App, monkeypatch: pytest.MonkeyPatch) -> None:
    with seeded.tx() as s:
        full = seeded.programme_shape(s, find_station(s, None))
    monkeypatch.setenv("BROADCASTER_PROGRAMME_CLOSING", "")
    monkeypatch.setenv("BROADCASTER_PROGRAMME_USE_SIGNATURE", "false")
    bare = build_app(load_config())
    with bare.tx() as s:
        shape = bare.programme_shape(s, find_station(s, None))
    assert full.closing_s > 1.0 and full.signature_s > 1.0
    assert shape.closing_s == 0.0 and shape.signature_s == 0.0
    assert shape.ident_s == pytest.approx(full.ident_s)
    bare.engine.dispose()
