"""Reading YAML while remembering the line of every key and item, so that errors can
say ``config/routing.yaml:42 pools.emea.members[3].weight: must be > 0``."""

from __future__ import annotations

from typing import Any

import yaml

Path = tuple[str | int, ...]


class YamlSyntaxError(ValueError):
    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.line = line


def _construct(
    node: yaml.Node, path: Path, lines: dict[Path, int], dupes: list[tuple[Path, int]]
) -> Any:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _scalar(key_node)
            child = (*path, str(key))
            if key in out:
                dupes.append((child, key_node.start_mark.line + 1))
            lines[child] = key_node.start_mark.line + 1
            out[key] = _construct(value_node, child, lines, dupes)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_construct(v, (*path, i), lines, dupes) for i, v in enumerate(node.value)]
    return _scalar(node)


def _scalar(node: yaml.Node) -> Any:
    if not isinstance(node, yaml.ScalarNode):
        raise YamlSyntaxError("keys must be plain values", node.start_mark.line + 1)
    return yaml.SafeLoader(yaml.dump(None)).construct_object(node)  # type: ignore[no-untyped-call]


def load_yaml(text: str) -> tuple[Any, dict[Path, int], list[tuple[Path, int]]]:
    """(data, line of each path, duplicated keys) for a YAML document.

    Raises:
        YamlSyntaxError: the text is not YAML (with the line of the problem).
    """
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise YamlSyntaxError(f"not valid YAML: {exc.problem}", line) from None
    if node is None:
        return {}, {}, []
    lines: dict[Path, int] = {}
    dupes: list[tuple[Path, int]] = []
    return _construct(node, (), lines, dupes), lines, dupes


def format_path(path: Path) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"
