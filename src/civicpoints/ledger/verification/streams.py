"""Merging key-ordered row streams, and naming the rows a fault concerns."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Generic, TypeVar

T = TypeVar("T")
Key = tuple[Any, ...]


class Peek(Generic[T]):
    """A stream sorted by a unique key, consumed up to a key at a time (for merge joins)."""

    def __init__(self, rows: Iterable[T], key: Callable[[T], Key]) -> None:
        self._rows, self._key = iter(rows), key
        self._head: T | None = next(self._rows, None)

    def peek_key(self) -> Key | None:
        """The key of the next row, or None at the end."""
        return None if self._head is None else self._key(self._head)

    def pop(self) -> T:
        """Take the next row."""
        row = self._head
        assert row is not None
        self._head = next(self._rows, None)
        return row

    def below(self, key: Key) -> Iterator[T]:
        """Take every row whose key sorts before `key`."""
        while (k := self.peek_key()) is not None and k < key:
            yield self.pop()

    def at(self, key: Key) -> T | None:
        """Take the row with exactly `key`, if it is next."""
        return self.pop() if self.peek_key() == key else None

    def while_prefix(self, prefix: Key) -> Iterator[T]:
        """Take every row whose key starts with `prefix` (the rows of one bucket, say)."""
        n = len(prefix)
        while (k := self.peek_key()) is not None and k[:n] == prefix:
            yield self.pop()

    def rest(self) -> Iterator[T]:
        """Take every remaining row."""
        while self._head is not None:
            yield self.pop()


def by_bucket_and_id(row: Any) -> Key:
    """The merge key of a row that starts with (bucket, id)."""
    return (row[0], row[1])


def hex_id(dialect: str, column: str) -> str:
    """SQL for a uuid column as 32 lowercase hex digits (SQLite stores it so already)."""
    return f"replace({column}::text, '-', '')" if dialect == "postgresql" else column


def as_uuid(raw: object) -> uuid.UUID:
    """A raw id (a UUID from psycopg, 32 hex digits from SQLite) as a UUID, to name a fault."""
    return raw if isinstance(raw, uuid.UUID) else uuid.UUID(str(raw))


def hex_of(raw: object) -> str:
    """A raw id as 32 hex digits, the same on both engines."""
    return raw.hex if isinstance(raw, uuid.UUID) else str(raw)


def uuid_or_none(text: str) -> uuid.UUID | None:
    """A UUID from text, None if it is not one (a forged ref, say)."""
    try:
        return uuid.UUID(text)
    except ValueError:
        return None
