"""One ledger engine, three faces (points, gift cards, store credit).

An account keeps its balance on its row; an append-only ledger row is written in
the same transaction as every change of it; an idempotency key is scoped to its
account; a rule (a floor, a ceiling, a card's expiry) decides whether a movement
may happen. The engine owns the order of the steps, the same for every face:

1. lock every account the request names, in the one global order (the face's
   `lock` sorts by account key, so no two writes can wait for each other in a
   cycle);
2. for each posting, in request order: a key used before answers with its
   original entry (a replay: same request hash, or CONFLICT), else the face's
   `apply` moves the account's state by its rules (or refuses: NotAllowed, named
   by the posting's label when the request had several);
3. the face's `write` stores the moved states and the new ledger rows.

The caller runs it inside one transaction (Database.run), so a refusal anywhere
writes nothing. What differs per face (columns, rules, wording) lives in the
face; the one-statement PostgreSQL paths, being face-shaped SQL, live in the
faces' store modules and fall back to this engine for everything but the
common case.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from ..store.db import Tx
from .errors import NotAllowed
from .idempotency import check_replay

State = TypeVar("State")
Entry = TypeVar("Entry")
Item = TypeVar("Item")


@dataclass(frozen=True)
class Posting(Generic[Item]):
    """One requested movement of one account."""

    account: str
    item: Item
    key: str | None
    fingerprint: str


@dataclass(frozen=True)
class Posted(Generic[Entry]):
    entry: Entry
    # The key matched an earlier request: its entry, nothing applied now.
    replayed: bool


class Face(Protocol[State, Item, Entry]):
    """What one kind of account contributes to the engine."""

    async def lock(self, conn: Tx, accounts: Sequence[str]) -> dict[str, State]:
        """The states of `accounts` (absent ones missing), locked in the global order."""
        ...

    async def replay(self, conn: Tx, account: str, key: str) -> tuple[Entry, str | None] | None:
        """The entry an earlier request with this key wrote, and its request hash."""
        ...

    def apply(self, state: State | None, posting: Posting[Item]) -> tuple[State, Entry]:
        """The account's state after the posting and its ledger entry; NotAllowed
        (with the reason a caller can act on) when the rules refuse it."""
        ...

    async def write(
        self,
        conn: Tx,
        states: Mapping[str, tuple[State | None, State]],
        entries: Sequence[tuple[Posting[Item], Entry]],
    ) -> None:
        """Store the moved states (before, after) and append the new entries."""
        ...


async def post(
    conn: Tx,
    face: Face[State, Item, Entry],
    postings: Sequence[Posting[Item]],
    *,
    label: Callable[[int], str] | None = None,
) -> list[Posted[Entry]]:
    """Apply `postings` all or nothing (inside the caller's transaction)."""
    states = await face.lock(conn, [p.account for p in postings])
    before = dict(states)
    posted: list[Posted[Entry]] = []
    written: list[tuple[Posting[Item], Entry]] = []
    # Keys claimed by earlier postings of this same request (not written yet).
    claimed: dict[tuple[str, str], tuple[Entry, str | None]] = {}
    for index, posting in enumerate(postings):
        if posting.key is not None:
            found = claimed.get((posting.account, posting.key))
            if found is None:
                found = await face.replay(conn, posting.account, posting.key)
            if found is not None:
                entry, stored_hash = found
                check_replay(stored_hash, posting.fingerprint, posting.key)
                posted.append(Posted(entry, replayed=True))
                continue
        try:
            state, entry = face.apply(states.get(posting.account), posting)
        except NotAllowed as error:
            if label is None:
                raise
            raise NotAllowed(f"{label(index)}: {error.message}") from error
        states[posting.account] = state
        if posting.key is not None:
            claimed[(posting.account, posting.key)] = (entry, posting.fingerprint)
        posted.append(Posted(entry, replayed=False))
        written.append((posting, entry))
    if written:
        moved = {p.account for p, _ in written}
        await face.write(conn, {a: (before.get(a), states[a]) for a in sorted(moved)}, written)
    return posted
