"""Recursive-descent parser for the SOQL subset.

Salesforce refuses ``a AND b OR c`` ("unexpected token: OR"): AND and OR may only be
mixed with parentheses, and ``NOT`` may only open a (parenthesised) condition. We do the
same, so a query that parses here also parses in a real org.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import TypeVar

from devkit.sandbox.soql.ast import (
    Aggregate,
    BoolOp,
    Comparison,
    Condition,
    FieldPath,
    Includes,
    InList,
    Literal,
    Not,
    OrderItem,
    Query,
    RelativeDate,
    SelectItem,
    SemiJoin,
    SoqlError,
)
from devkit.sandbox.soql.dates import N_LITERALS, PLAIN_LITERALS
from devkit.sandbox.soql.lexer import Token, decode_string, error_at, tokenize

T = TypeVar("T")
AGGREGATES = frozenset({"COUNT", "COUNT_DISTINCT", "MIN", "MAX", "SUM", "AVG"})
RESERVED = frozenset(
    "AND ASC DESC EXCLUDES FIRST FROM GROUP HAVING IN INCLUDES LAST LIKE LIMIT NOT NULL "
    "NULLS OR SELECT WHERE WITH ORDER BY OFFSET FOR TRUE FALSE USING TYPEOF".split()
)
MAX_LENGTH = 100_000
# parentheses nest at most this deep: the parser (and the filter compiler
# after it) recurse once per level, and 3,000 levels overflowed Python's stack (a 500
# instead of MALFORMED_QUERY)
MAX_NESTING = 100


def parse(soql: str) -> Query:
    """Parse a SOQL statement or raise :class:`SoqlError` (``MALFORMED_QUERY``)."""
    if len(soql) > MAX_LENGTH:
        raise SoqlError("MALFORMED_QUERY", f"Query is longer than {MAX_LENGTH} characters")
    parser = _Parser(soql)
    query = parser.query()
    parser.expect_end()
    return query


class _Parser:
    def __init__(self, soql: str) -> None:
        self.soql = soql
        self.tokens = tokenize(soql)
        self.i = 0
        self.depth = 0

    # --- token helpers -----------------------------------------------------------------
    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def next(self) -> Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def at(self, *words: str) -> bool:
        return self.tok.kind == "ident" and self.tok.upper in words

    def at_punct(self, ch: str) -> bool:
        return self.tok.kind == "punct" and self.tok.text == ch

    def fail(self, message: str | None = None) -> SoqlError:
        tok = self.tok
        text = message or (
            "unexpected token: <EOF>" if tok.kind == "end" else f"unexpected token: '{tok.text}'"
        )
        return error_at(self.soql, tok, text)

    def keyword(self, word: str) -> None:
        if not self.at(word):
            raise self.fail()
        self.i += 1

    def punct(self, ch: str) -> None:
        if not self.at_punct(ch):
            raise self.fail()
        self.i += 1

    def expect_end(self) -> None:
        if self.tok.kind != "end":
            raise self.fail()

    # --- statement ---------------------------------------------------------------------
    def query(self) -> Query:
        self.keyword("SELECT")
        select, count_only = self.select_list()
        self.keyword("FROM")
        sobject = self.name(object_name=True)
        where = self.condition() if self._take("WHERE") else None
        group_by: tuple[FieldPath, ...] = ()
        if self._take("GROUP"):
            self.keyword("BY")
            group_by = self.comma_list(self.field_path)
        if self.at("HAVING", "WITH", "FOR", "USING", "TYPEOF"):
            raise self.fail(f"the sandbox does not support {self.tok.upper}")
        order_by: tuple[OrderItem, ...] = ()
        if self._take("ORDER"):
            self.keyword("BY")
            order_by = self.comma_list(self.order_item)
        limit = self.integer() if self._take("LIMIT") else None
        offset = self.integer() if self._take("OFFSET") else None
        if self.at("FOR"):
            raise self.fail("the sandbox does not support FOR VIEW/REFERENCE/UPDATE")
        return Query(sobject, select, count_only, where, group_by, order_by, limit, offset)

    def _take(self, word: str) -> bool:
        if self.at(word):
            self.i += 1
            return True
        return False

    def comma_list(self, item: Callable[[], T]) -> tuple[T, ...]:
        items = [item()]
        while self.at_punct(","):
            self.i += 1
            items.append(item())
        return tuple(items)

    def name(self, *, object_name: bool = False) -> str:
        tok = self.tok
        # Right after FROM any identifier is an object name ("FROM Group" is valid).
        reserved = tok.upper in RESERVED and not (object_name and tok.upper == "GROUP")
        if tok.kind != "ident" or reserved or "." in tok.text:
            raise self.fail()
        self.i += 1
        return tok.text

    def integer(self) -> int:
        tok = self.tok
        if tok.kind != "number" or not tok.text.isdigit():
            raise self.fail()
        self.i += 1
        return int(tok.text)

    # --- SELECT ------------------------------------------------------------------------
    def select_list(self) -> tuple[tuple[SelectItem, ...], bool]:
        if (
            self.at("COUNT")
            and self.tokens[self.i + 1].text == "("
            and self.tokens[self.i + 2].text == ")"
        ):
            if self.tokens[self.i + 3].kind == "ident" and self.tokens[self.i + 3].upper == "FROM":
                self.i += 3
                return (), True
        items = self.comma_list(self.select_item)
        return items, False

    def select_item(self) -> SelectItem:
        if self.at_punct("("):
            raise self.fail("the sandbox does not support child relationship subqueries")
        if self.at("TYPEOF", "FIELDS"):
            raise self.fail(f"the sandbox does not support {self.tok.upper}")
        tok = self.tok
        if tok.kind == "ident" and self.tokens[self.i + 1].text == "(":
            return self.aggregate()
        path = self.field_path()
        if self.tok.kind == "ident" and self.tok.upper not in RESERVED:
            raise self.fail("an alias is only allowed on an aggregate expression")
        return path

    def aggregate(self) -> Aggregate:
        func = self.next().upper
        if func not in AGGREGATES:
            raise error_at(self.soql, self.tokens[self.i - 1], f"unsupported function: {func}")
        self.punct("(")
        arg = None if self.at_punct(")") else self.field_path()
        self.punct(")")
        if arg is None and func != "COUNT":
            raise self.fail(f"{func} needs a field")
        alias = None
        if self.tok.kind == "ident" and self.tok.upper not in RESERVED:
            alias = self.name()
        return Aggregate(func, arg, alias)

    def field_path(self) -> FieldPath:
        tok = self.tok
        if tok.kind != "ident" or tok.upper in RESERVED:
            raise self.fail()
        if self.tokens[self.i + 1].text == "(":
            raise self.fail(f"the sandbox does not support the function {tok.text}()")
        self.i += 1
        return FieldPath(tuple(tok.text.split(".")))

    def order_item(self) -> OrderItem:
        target: FieldPath | Aggregate
        if self.tok.kind == "ident" and self.tokens[self.i + 1].text == "(":
            target = self.aggregate()
        else:
            target = self.field_path()
        descending = False
        if self.at("ASC", "DESC"):
            descending = self.next().upper == "DESC"
        nulls_last = False
        if self._take("NULLS"):
            if not self.at("FIRST", "LAST"):
                raise self.fail()
            nulls_last = self.next().upper == "LAST"
        return OrderItem(target, descending, nulls_last)

    # --- WHERE -------------------------------------------------------------------------
    def condition(self) -> Condition:
        """A condition group: ``NOT term`` or ``term (AND term)*`` or ``term (OR term)*``."""
        if self._take("NOT"):
            item = Not(self.term())
            if self.at("AND", "OR"):
                raise self.fail()  # Salesforce: NOT must be parenthesised when combined
            return item
        first = self.term()
        if not self.at("AND", "OR"):
            return first
        op = self.tok.upper
        items = [first]
        while self.at("AND", "OR"):
            if self.tok.upper != op:
                raise self.fail()  # mixing AND and OR without parentheses
            self.i += 1
            if self.at("NOT"):
                raise self.fail()
            items.append(self.term())
        return BoolOp(op, tuple(items))

    def term(self) -> Condition:
        if self.at_punct("("):
            if self.depth == MAX_NESTING:
                raise self.fail(f"parentheses nested more than {MAX_NESTING} levels deep")
            self.i += 1
            self.depth += 1
            inner = self.condition()
            self.depth -= 1
            self.punct(")")
            return inner
        return self.simple()

    def simple(self) -> Condition:
        field = self.field_path()
        tok = self.tok
        if tok.kind == "op":
            self.i += 1
            op = "!=" if tok.text == "<>" else tok.text
            return Comparison(field, op, self.value())
        if self._take("LIKE"):
            return Comparison(field, "LIKE", self.string(like=True))
        negated = False
        if self.at("NOT") and self.tokens[self.i + 1].upper == "IN":
            self.i += 1
            negated = True
        if self._take("IN"):
            return self.in_rhs(field, negated)
        if self.at("INCLUDES", "EXCLUDES"):
            excludes = self.next().upper == "EXCLUDES"
            self.punct("(")
            values = self.comma_list(lambda: self.string())
            self.punct(")")
            return Includes(field, values, excludes)
        raise self.fail()

    def in_rhs(self, field: FieldPath, negated: bool) -> Condition:
        self.punct("(")
        if self.at("SELECT"):
            sub = self.query()
            self.punct(")")
            return SemiJoin(field, sub, negated)
        values = self.comma_list(self.value)
        self.punct(")")
        return InList(field, values, negated)

    def string(self, *, like: bool = False) -> str:
        tok = self.tok
        if tok.kind != "string":
            raise self.fail()
        self.i += 1
        return decode_string(tok.text[1:-1], like=like)

    def value(self) -> Literal:
        tok = self.tok
        if tok.kind == "string":
            return self.string()
        self.i += 1
        if tok.kind == "number":
            try:
                return Decimal(tok.text)
            except InvalidOperation:  # pragma: no cover - the lexer only lets numbers through
                raise error_at(self.soql, tok, f"invalid number: {tok.text}") from None
        if tok.kind == "datetime":
            return self._datetime(tok)
        if tok.kind == "date":
            return self._date(tok)
        if tok.kind == "ident":
            word = tok.upper
            if word in ("TRUE", "FALSE"):
                return word == "TRUE"
            if word == "NULL":
                return None
            if word in PLAIN_LITERALS:
                return RelativeDate(word)
            if word in N_LITERALS:
                self.punct(":")
                return RelativeDate(word, self.integer())
        self.i -= 1
        raise self.fail()

    def _datetime(self, tok: Token) -> datetime:
        text = tok.text
        if "." in text:
            raise error_at(
                self.soql,
                tok,
                f"line 1:{tok.pos} no viable alternative at character '.' (fractional seconds are not a SOQL dateTime format: {text})",
            )
        if not (text.endswith("Z") or text[-6] in "+-" and text[-3] == ":"):
            raise error_at(
                self.soql,
                tok,
                f"invalid dateTime literal (use YYYY-MM-DDThh:mm:ssZ or ±hh:mm): {text}",
            )
        try:
            return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)
        except ValueError:
            raise error_at(self.soql, tok, f"invalid dateTime: {text}") from None

    def _date(self, tok: Token) -> date:
        try:
            return date.fromisoformat(tok.text)
        except ValueError:
            raise error_at(self.soql, tok, f"invalid date: {tok.text}") from None
