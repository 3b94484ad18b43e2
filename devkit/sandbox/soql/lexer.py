"""SOQL tokens and string-literal escapes."""

from __future__ import annotations

import re
from dataclasses import dataclass

from devkit.sandbox.soql.ast import SoqlError

_TOKEN = re.compile(
    r"""
     (?P<ws>\s+)
    |(?P<string>'(?:[^'\\]|\\.)*')
    |(?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?)
    |(?P<date>\d{4}-\d{2}-\d{2})
    |(?P<number>[+-]?(?:\d+(?:\.\d*)?|\.\d+))
    |(?P<op><=|>=|!=|<>|=|<|>)
    |(?P<punct>[(),:])
    |(?P<ident>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
    """,
    re.VERBOSE | re.DOTALL,
)

# Escapes valid in any string literal ("Quoted String Escape Sequences").
_ESCAPES = {
    "n": "\n", "N": "\n", "r": "\r", "R": "\r", "t": "\t", "T": "\t",
    "b": "\b", "B": "\b", "f": "\f", "F": "\f", '"': '"', "'": "'", "\\": "\\",
}  # fmt: skip


@dataclass(frozen=True)
class Token:
    kind: str  # string datetime date number op punct ident end
    text: str
    pos: int  # 0-based offset in the statement

    @property
    def upper(self) -> str:
        return self.text.upper()


def tokenize(soql: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(soql):
        m = _TOKEN.match(soql, pos)
        if m is None:
            bad = soql[pos]
            kind = "unterminated string" if bad == "'" else f"unexpected character: '{bad}'"
            raise SoqlError("MALFORMED_QUERY", _where(soql, pos) + kind)
        assert m.lastgroup is not None
        if m.lastgroup != "ws":
            tokens.append(Token(m.lastgroup, m.group(), pos))
        pos = m.end()
    tokens.append(Token("end", "", len(soql)))
    return tokens


def _where(soql: str, pos: int) -> str:
    line = soql.count("\n", 0, pos) + 1
    column = pos - (soql.rfind("\n", 0, pos) + 1) + 1
    return f"ERROR at Row:{line}:Column:{column}\n"


def error_at(soql: str, token: Token, message: str, code: str = "MALFORMED_QUERY") -> SoqlError:
    return SoqlError(code, _where(soql, token.pos) + message)


def decode_string(raw: str, *, like: bool = False) -> str:
    """Decode the body of a quoted literal (without its quotes).

    In a LIKE pattern ``\\%`` and ``\\_`` stay escaped (as ``\\%``/``\\_``) so the matcher
    can tell a literal percent from a wildcard; anywhere else they are invalid.
    """
    out: list[str] = []
    i = 0
    while i < len(raw):
        ch = raw[i]
        if ch != "\\":
            out.append(ch)
            i += 1
            continue
        nxt = raw[i + 1] if i + 1 < len(raw) else ""
        if nxt in _ESCAPES:
            out.append("\\\\" if like and nxt == "\\" else _ESCAPES[nxt])
            i += 2
        elif nxt in ("%", "_") and like:
            out.append("\\" + nxt)
            i += 2
        elif nxt == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", raw[i + 2 : i + 6]):
            out.append(chr(int(raw[i + 2 : i + 6], 16)))
            i += 6
        else:
            raise SoqlError(
                "MALFORMED_QUERY",
                f"Invalid string literal '{raw}'. Illegal character sequence '\\{nxt}' in string literal.",
            )
    return "".join(out)
