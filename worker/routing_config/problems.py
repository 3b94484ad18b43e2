"""Collecting every problem of a config at once, each with file, line and key path."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from worker.routing_config.yamlsrc import Path, format_path


@dataclass(frozen=True)
class Problem:
    path: str
    message: str
    line: int | None = None
    file: str | None = None

    def __str__(self) -> str:
        where = self.file or "config"
        if self.line is not None:
            where += f":{self.line}"
        return one_line(f"{where} {self.path}: {self.message}")


# every character str.splitlines() breaks at, escaped: a key or value from the file
# (a YAML key "a\nb") must not turn one problem into several lines
_BREAKS = {ord(ch): ascii(ch)[1:-1] for ch in "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"}


def one_line(text: str) -> str:
    return text.translate(_BREAKS)


class ConfigError(ValueError):
    """The routing config is invalid; ``problems`` lists every problem found."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass
class Collector:
    """Accumulates problems; the helpers return None (and record why) on bad input."""

    file: str | None = None
    lines: Mapping[Path, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    def line_of(self, path: Path) -> int | None:
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get(())

    def error(self, path: Path, message: str) -> None:
        self.problems.append(Problem(format_path(path), message, self.line_of(path), self.file))

    def summary(self, path: Path, message: str) -> None:
        """An error about ``path`` as a whole ("empty pool", "no rules"), left out when a
        problem inside it was already reported: that one is the cause, this the echo."""
        where = format_path(path)
        if not any(
            p.path == where or p.path.startswith((f"{where}.", f"{where}[")) for p in self.problems
        ):
            self.error(path, message)

    def warn(self, path: Path, message: str) -> None:
        self.warnings.append(Problem(format_path(path), message, self.line_of(path), self.file))

    def mapping(
        self, raw: Any, path: Path, allowed: Iterable[str], required: Iterable[str] = ()
    ) -> dict[str, Any] | None:
        if raw is None:
            raw = {}
        if not isinstance(raw, dict):
            self.error(path, f"must be a mapping, got {_kind(raw)}")
            return None
        allowed_set = set(allowed)
        for key in raw:
            if str(key) not in allowed_set:
                self.error(
                    (*path, str(key)), f"unknown key (allowed: {', '.join(sorted(allowed_set))})"
                )
        for key in required:
            if raw.get(key) is None:
                self.error((*path, key), "is required")
        return {str(k): v for k, v in raw.items() if str(k) in allowed_set}

    def seq(self, raw: Any, path: Path) -> list[Any]:
        if raw is None:
            return []
        if not isinstance(raw, list):
            self.error(path, f"must be a list, got {_kind(raw)}")
            return []
        return raw

    def text(self, raw: Any, path: Path, *, required: bool = False) -> str | None:
        if raw is None:
            if required:
                self.error(path, "is required")
            return None
        if isinstance(raw, bool) or not isinstance(raw, str | int | float):
            self.error(path, f"must be text, got {_kind(raw)}")
            return None
        value = str(raw).strip()
        if required and not value:
            self.error(path, "must not be empty")
            return None
        return value

    def number(
        self,
        raw: Any,
        path: Path,
        *,
        positive: bool = False,
        integer: bool = False,
        minimum: float | None = None,
    ) -> float | None:
        if raw is None:
            return None
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            self.error(path, f"must be a number, got {_kind(raw)}")
            return None
        if isinstance(raw, float) and not math.isfinite(raw):  # .nan/.inf: not a setting
            self.error(path, f"must be a finite number, got {raw}")
            return None
        if integer and not float(raw).is_integer():
            self.error(path, "must be a whole number")
            return None
        if positive and raw <= 0:
            self.error(path, "must be > 0")
            return None
        if minimum is not None and raw < minimum:
            self.error(path, f"must be >= {minimum:g}")
            return None
        return float(raw)

    def flag(self, raw: Any, path: Path, default: bool) -> bool:
        if raw is None:
            return default
        if not isinstance(raw, bool):
            self.error(path, f"must be true or false, got {_kind(raw)}")
            return default
        return raw

    def choice(self, raw: Any, path: Path, options: Iterable[str], default: str) -> str:
        if raw is None:
            return default
        opts = list(options)
        if raw not in opts:
            self.error(path, f"must be one of {', '.join(opts)}, got {raw!r}")
            return default
        return str(raw)


def _kind(raw: Any) -> str:
    if raw is None:
        return "nothing"
    return {dict: "a mapping", list: "a list", bool: "true/false", str: "text"}.get(
        type(raw), type(raw).__name__
    )


def norway_hint(value: Any) -> str:
    """YAML 1.1 reads a bare NO (Norway) as false: say so."""
    return (
        ' (write "NO" in quotes: YAML reads a bare NO as false)' if isinstance(value, bool) else ""
    )
