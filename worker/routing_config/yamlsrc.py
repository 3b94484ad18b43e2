"""Reading YAML while remembering the line of every key and item, so that errors can
say ``config/routing.yaml:42 pools.emea.members[3].weight: must be > 0``."""

from __future__ import annotations

from typing import Any

import yaml

Path = tuple[str | int, ...]


class YamlSyntaxError(ValueError):
    def __init__(self, message: str, line: int | None, path: Path = ()) -> None:
        super().__init__(message)
        self.line = line
        self.path = path


_PLAIN_TAGS = (yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
               yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG)  # fmt: skip
_BUSY = object()
# libyaml's parser when PyYAML was built with it (the wheels are): ~5x faster, same nodes
_COMPOSER = getattr(
    yaml, "CSafeLoader", yaml.SafeLoader
)  # a collection being built: meeting it again means an alias loop


def _construct(
    node: yaml.Node,
    path: Path,
    lines: dict[Path, int],
    dupes: list[tuple[Path, int]],
    built: dict[int, Any],
) -> Any:
    """Plain data for ``node``. A collection reached again through an alias is built once
    and shared (as PyYAML does), so nested aliases cannot blow up exponentially."""
    lines.setdefault(path, node.start_mark.line + 1)
    if not isinstance(node, yaml.MappingNode | yaml.SequenceNode):
        return _scalar(node, path)
    if node.tag not in _PLAIN_TAGS:  # e.g. !!python/object/apply:os.system [ls]
        raise YamlSyntaxError(
            f"not a valid value: unsupported tag {node.tag}", node.start_mark.line + 1, path
        )
    done = built.get(id(node))
    if done is _BUSY:
        raise YamlSyntaxError("an alias refers to its own parent", node.start_mark.line + 1, path)
    if done is not None:
        return done
    built[id(node)] = _BUSY
    out: Any
    if isinstance(node, yaml.MappingNode):
        out = {}
        for key_node, value_node in node.value:
            key = _scalar(key_node, path)
            child = (*path, str(key))
            if key in out:
                dupes.append((child, key_node.start_mark.line + 1))
            lines[child] = key_node.start_mark.line + 1
            out[key] = _construct(value_node, child, lines, dupes, built)
    else:
        out = [_construct(v, (*path, i), lines, dupes, built) for i, v in enumerate(node.value)]
    built[id(node)] = out
    return out


def _scalar(node: yaml.Node, path: Path) -> Any:
    if not isinstance(node, yaml.ScalarNode):
        raise YamlSyntaxError("keys must be plain values", node.start_mark.line + 1)
    # a new constructor per value (it remembers every node it built), no reader or parser:
    # ``SafeLoader(yaml.dump(None))`` ran the emitter per value, most of a load's time
    loader = yaml.constructor.SafeConstructor()
    try:
        return loader.construct_object(node)  # type: ignore[no-untyped-call]
    except (yaml.YAMLError, ValueError, TypeError, OverflowError) as exc:
        # e.g. 2026-13-45 (a date with month 13), !!int x, !!python/object: one line
        why = (exc.problem if isinstance(exc, yaml.MarkedYAMLError) else str(exc)) or ""
        why = why.splitlines()[0] if why else type(exc).__name__
        value = str(node.value)[:40]
        raise YamlSyntaxError(
            f"not a valid value {value!r}: {why}", node.start_mark.line + 1, path
        ) from None


TOO_DEEP = "not valid YAML: nested too deeply"


def load_yaml(text: str) -> tuple[Any, dict[Path, int], list[tuple[Path, int]]]:
    """(data, line of each path, duplicated keys) for a YAML document.

    Raises:
        YamlSyntaxError: the text is not YAML (with the line of the problem).
    """
    try:
        node = yaml.compose(text, Loader=_COMPOSER)
    except yaml.MarkedYAMLError as exc:
        if "nesting depth" in str(exc.problem):  # PyYAML >= 6.0.3 has its own limit
            raise YamlSyntaxError(TOO_DEEP, None) from None
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise YamlSyntaxError(f"not valid YAML: {exc.problem}", line) from None
    except yaml.reader.ReaderError as exc:  # a control character (NUL, BEL, ...)
        line = text.count("\n", 0, exc.position) + 1
        char = exc.character if isinstance(exc.character, int) else ord(exc.character)
        raise YamlSyntaxError(f"not valid YAML: control character #x{char:02x}", line) from None
    except RecursionError:
        raise YamlSyntaxError(TOO_DEEP, None) from None
    if node is None:
        return {}, {}, []
    lines: dict[Path, int] = {}
    dupes: list[tuple[Path, int]] = []
    try:
        data = _construct(node, (), lines, dupes, {})
    except RecursionError:
        raise YamlSyntaxError(TOO_DEEP, None) from None
    return data, lines, dupes


def format_path(path: Path) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"
