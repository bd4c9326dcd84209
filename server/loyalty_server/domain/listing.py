"""Checks every Medusa-style admin list and delete shares: order, skip/take,
filter values, id batches. One set of rules and wordings for gift cards,
store-credit accounts and their transactions."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from ..store.db import Database
from ..store.listing import PageQuery
from . import validation
from .errors import InvalidData
from .records import RowLike
from .validation import Violations

T = TypeVar("T")

MAX_TAKE = 1000
DEFAULT_TAKE = 15


@dataclass(frozen=True)
class Page:
    skip: int
    take: int
    order: list[tuple[str, bool]]


def parse_order(
    order: str, sortable: Collection[str], default: tuple[str, bool]
) -> list[tuple[str, bool]]:
    """'created_at DESC, code' -> [(column, descending), ...]."""
    if not order.strip():
        return [default]
    validation.text(order, "order", max_length=validation.MAX_ID)  # no 100,000-term ORDER BY
    result = []
    for part in order.split(","):
        words = part.split()
        direction = words[1].upper() if len(words) == 2 else "ASC" if len(words) == 1 else ""
        if not words or words[0] not in sortable or direction not in {"ASC", "DESC"}:
            raise InvalidData.field(
                "order",
                "order must look like 'created_at DESC' with fields from: "
                + ", ".join(sorted(sortable)),
            )
        result.append((words[0], direction == "DESC"))
    return result


def page(
    v: Violations,
    *,
    skip: int,
    take: int | None,
    order: str,
    sortable: Collection[str],
    default_order: tuple[str, bool] = ("created_at", False),
) -> Page:
    """skip, take (unset: 15, as Medusa) and order, their problems collected in `v`."""
    take = DEFAULT_TAKE if take is None else take
    if skip < 0:
        v.add("skip", "skip must not be negative")
    if not 0 <= take <= MAX_TAKE:
        v.add("take", f"take must be between 0 and {MAX_TAKE}")
    parsed = v.check(parse_order, order, sortable, default_order)
    return Page(skip, take, parsed or [])


def filters(v: Violations, values: Mapping[str, Sequence[str]], *, q: str = "") -> None:
    """Each filter: at most MAX_TAKE values, each a bounded string without NUL."""
    for name, given in values.items():
        if len(given) > MAX_TAKE:
            v.add(name, f"{name} filters at most {MAX_TAKE} values")
        for value in given:
            v.check(validation.text, value, name, max_length=validation.MAX_ID)
    v.check(validation.label, q, "q")


def ids(ids: Sequence[str]) -> list[str]:
    """The ids of a delete, soft delete or restore: at most MAX_BATCH, each non-blank;
    sorted and unique, so the rows are taken in one global order."""
    if len(ids) > validation.MAX_BATCH:
        raise InvalidData.field("ids", f"ids must hold at most {validation.MAX_BATCH} items")
    v = Violations()
    for i, value in enumerate(ids):
        v.check(validation.identifier, value, f"ids[{i}]")
    v.raise_if_any()
    return sorted(set(ids))


async def fetch(
    db: Database, query: PageQuery, record: Callable[[RowLike], T]
) -> tuple[list[T], int | None]:
    """One page of `query` as records, and its count if asked: on PostgreSQL's
    direct pool where the database has one, else in a transaction."""
    rows, count = await db.run(query.run, simple=query.run_direct)
    return [record(row) for row in rows], count
