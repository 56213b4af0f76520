"""Find the source line of a key path in schedule TOML (tomllib keeps no positions, so we scan the text)."""

from __future__ import annotations

import re

_KEY_PART = r"""(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')"""
_DOTTED = rf"{_KEY_PART}(?:\s*\.\s*{_KEY_PART})*"
_HEADER = re.compile(rf"^\s*(\[\[?)\s*({_DOTTED})\s*\]")
_KEY_LINE = re.compile(rf"^\s*({_DOTTED})\s*=(.*)$")


def _split_key(dotted: str) -> list[str]:
    return [part.strip("\"'") for part in re.findall(_KEY_PART, dotted)]


class Locator:
    """Maps key paths such as `session[2].start` to 1-based source lines."""

    def __init__(self, text: str) -> None:
        self._lines: dict[str, int] = {}
        counts: dict[str, int] = {}
        table = ""
        closer: str | None = None
        for number, line in enumerate(text.splitlines(), start=1):
            if closer is not None:  # inside a multi-line string: nothing here is a key
                if line.count(closer) % 2:
                    closer = None
                continue
            if header := _HEADER.match(line):
                table = self._resolve(_split_key(header.group(2)), header.group(1) == "[[", counts)
                self._lines.setdefault(table, number)
                self._lines.setdefault(re.sub(r"\[\d+\]$", "", table), number)
            elif key := _KEY_LINE.match(line):
                parts = _split_key(key.group(1))
                for i in range(1, len(parts) + 1):
                    self._lines.setdefault(".".join([p for p in (table, *parts[:i]) if p]), number)
                closer = next((q for q in ('"""', "'''") if key.group(2).count(q) % 2), None)

    @staticmethod
    def _resolve(parts: list[str], is_array: bool, counts: dict[str, int]) -> str:
        path = ""
        for i, part in enumerate(parts):
            path = f"{path}.{part}" if path else part
            if is_array and i == len(parts) - 1:
                counts[path] = counts.get(path, 0) + 1
            if path in counts:
                path = f"{path}[{counts[path]}]"
        return path

    def line(self, path: str) -> int:
        """The line of the key, else of its nearest enclosing key or table, else 1."""
        while path:
            if path in self._lines:
                return self._lines[path]
            shorter = re.sub(r"(\[\d+\]|\.[^.\[\]]+)$", "", path)
            if shorter == path:
                break
            path = shorter
        return 1
