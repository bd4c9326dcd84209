"""Rows to domain records: a frozen dataclass from the columns of the same names."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import fields
from typing import Any, TypeAlias, TypeVar

from ..store.db import AnyRow

T = TypeVar("T")


_NAMES: dict[type[Any], tuple[str, ...]] = {}


def _names(cls: type[Any]) -> tuple[str, ...]:
    names = _NAMES.get(cls)
    if names is None:
        names = _NAMES[cls] = tuple(f.name for f in fields(cls))
    return names


#: The fields of a list's filters record that are not column filters.
NOT_COLUMNS = frozenset({"q", "with_deleted"})


class ColumnFilters:
    """A list's filters record (a frozen dataclass): each of its fields but `q` and
    `with_deleted` names a column and the values it may take (empty: any)."""

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(n for n in _names(cls) if n not in NOT_COLUMNS)

    def columns(self) -> dict[str, Sequence[str]]:
        return {name: getattr(self, name) for name in self.names()}


#: A stored row: an engine Row, or a mapping of column names (the direct pool's).
RowLike: TypeAlias = "AnyRow | Mapping[str, Any]"


def from_row(cls: type[T], row: RowLike) -> T:
    """`cls` (a dataclass) built from the row's columns (or a mapping's keys) named
    as its fields: the one way a stored row becomes a record."""
    m = row if isinstance(row, Mapping) else row._mapping
    return cls(**{name: m[name] for name in _names(cls)})
