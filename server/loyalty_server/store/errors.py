"""What the store raises beyond SQLAlchemy's own errors, and the wait that bounds
them. A module of its own so every store module (and the domain, which re-exports
the two a caller can see) imports them without importing each other."""

from __future__ import annotations

#: How long a call waits for a pooled connection before it is StoreBusy.
POOL_WAIT_S = 5.0


class StoreUnavailable(Exception):
    """The database cannot be reached or keeps refusing; the caller may retry later."""


class StoreBusy(Exception):
    """The database is fine but this process has no connection (or queue place) free
    for the call within the bound; the caller may retry later. Never an outage."""


class Contended(Exception):
    """A one-statement path lost a race it cannot settle by itself (nothing was
    written); the direct-path functions turn it into "not the simple case" (None),
    and the locking path decides."""
