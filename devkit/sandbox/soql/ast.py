"""The syntax tree of a parsed SOQL statement (values only, no behaviour)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal


class SoqlError(Exception):
    """A query the sandbox refuses, with the Salesforce ``errorCode`` to report."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class FieldPath:
    parts: tuple[str, ...]  # as written: ("Owner", "Name")

    @property
    def text(self) -> str:
        return ".".join(self.parts)


@dataclass(frozen=True)
class Aggregate:
    func: str  # COUNT COUNT_DISTINCT MIN MAX SUM AVG (upper case)
    arg: FieldPath | None  # None only for COUNT()
    alias: str | None = None

    @property
    def text(self) -> str:
        return f"{self.func}({self.arg.text if self.arg else ''})"


SelectItem = FieldPath | Aggregate


@dataclass(frozen=True)
class RelativeDate:
    name: str  # TODAY, LAST_N_DAYS...
    n: int | None = None


Literal = str | Decimal | bool | None | datetime | date | RelativeDate


@dataclass(frozen=True)
class Comparison:
    field: FieldPath
    op: str  # = != < <= > >= LIKE
    value: Literal


@dataclass(frozen=True)
class InList:
    field: FieldPath
    values: tuple[Literal, ...]
    negated: bool


@dataclass(frozen=True)
class Includes:
    field: FieldPath
    values: tuple[str, ...]
    excludes: bool


@dataclass(frozen=True)
class SemiJoin:
    field: FieldPath
    query: Query
    negated: bool


@dataclass(frozen=True)
class BoolOp:
    op: str  # AND | OR
    items: tuple[Condition, ...]


@dataclass(frozen=True)
class Not:
    item: Condition


Condition = Comparison | InList | Includes | SemiJoin | BoolOp | Not


@dataclass(frozen=True)
class OrderItem:
    target: FieldPath | Aggregate
    descending: bool = False
    nulls_last: bool = False  # Salesforce sorts nulls first by default, in both directions


@dataclass(frozen=True)
class Query:
    sobject: str
    select: tuple[SelectItem, ...]
    count_only: bool = False  # SELECT COUNT() FROM ...
    where: Condition | None = None
    group_by: tuple[FieldPath, ...] = ()
    order_by: tuple[OrderItem, ...] = ()
    limit: int | None = None
    offset: int | None = None

    @property
    def is_aggregate(self) -> bool:
        return bool(self.group_by) or any(isinstance(s, Aggregate) for s in self.select)
