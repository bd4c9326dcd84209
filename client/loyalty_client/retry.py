"""The retry rule both clients share.

Retried: UNAVAILABLE (the server or its database could not be reached, or the
connection broke) and RESOURCE_EXHAUSTED with reason BUSY (the server is saturated),
and only for calls that cannot apply twice: reads, and writes that carry an
idempotency key. Waits grow exponentially with "full jitter": attempt n waits a
uniformly random time in [0, min(max_backoff, initial_backoff * multiplier**(n-1))].
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from .errors import Busy, LoyaltyError, Unavailable


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how patiently to retry. ``RetryPolicy(max_attempts=1)``: never."""

    #: Total attempts, the first included.
    max_attempts: int = 6
    #: Upper bound of the first wait, in seconds.
    initial_backoff: float = 0.2
    #: Upper bound of any wait, in seconds (the defaults wait at most 6.2 s in all).
    max_backoff: float = 5.0
    multiplier: float = 2.0
    #: Source of randomness for the jitter (tests may pass a seeded one).
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.initial_backoff < 0 or self.max_backoff < 0 or self.multiplier < 1:
            raise ValueError("backoffs must be >= 0 and multiplier >= 1")

    def backoff(self, attempt: int) -> float:
        """The wait after failed attempt number ``attempt`` (1-based), with jitter."""
        ceiling = min(self.max_backoff, self.initial_backoff * self.multiplier ** (attempt - 1))
        return self.rng.uniform(0, ceiling)

    def next_delay(self, error: LoyaltyError, attempt: int, *, retryable: bool) -> float | None:
        """Seconds to wait before the next attempt, or None to give up and raise.

        ``attempt`` is the number of the attempt that just failed (1-based);
        ``retryable`` says whether the call may run twice (a read or a keyed write).
        """
        if not retryable or not isinstance(error, Unavailable | Busy):
            return None
        if attempt >= self.max_attempts:
            return None
        return self.backoff(attempt)


#: Never retry.
NO_RETRY = RetryPolicy(max_attempts=1)

__all__ = ["NO_RETRY", "RetryPolicy"]
