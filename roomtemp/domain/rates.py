"""Rate limits: so many requests per second, minute or hour, per token. Rules only: the time
is passed in, so that nothing here reads a clock."""

import re
from dataclasses import dataclass

_RATE = re.compile(r"\s*(?P<count>[0-9]+)\s*/\s*(?P<period>second|minute|hour)\s*", re.IGNORECASE)
_SECONDS = {"second": 1.0, "minute": 60.0, "hour": 3600.0}


class InvalidRate(ValueError):
    """Not `N/second`, `N/minute` or `N/hour` with N at least 1."""


@dataclass(frozen=True, slots=True)
class Rate:
    count: int
    period: float  # seconds

    @property
    def per_second(self) -> float:
        return self.count / self.period


def parse_rate(text: str) -> Rate:
    """`100/second` -> Rate(100, 1.0)."""
    match = _RATE.fullmatch(text)
    if not match or int(match["count"]) < 1:
        raise InvalidRate(f"{text!r} is not a rate: write 100/second, 600/minute or 1000/hour")
    return Rate(int(match["count"]), _SECONDS[match["period"].lower()])


class Buckets:
    """A token bucket per key: each holds up to `count` requests and refills at count/period,
    so a client may spend a whole period's allowance at once, then waits for the refill."""

    def __init__(self, rate: Rate) -> None:
        self._capacity = float(rate.count)
        self._refill = rate.per_second
        self._levels: dict[str, tuple[float, float]] = {}  # key -> (requests left, at time)

    def take(self, key: str, now: float) -> float:
        """Spend one request of `key`'s allowance: 0.0 if there was one, else the seconds
        until there is (and nothing is spent)."""
        left, then = self._levels.get(key, (self._capacity, now))
        left = min(self._capacity, left + (now - then) * self._refill)
        if left >= 1.0:
            self._levels[key] = (left - 1.0, now)
            return 0.0
        self._levels[key] = (left, now)
        return (1.0 - left) / self._refill

    def forget_all_but(self, keys: set[str]) -> None:
        """Drop the buckets of keys no longer in use (revoked tokens)."""
        for key in self._levels.keys() - keys:
            del self._levels[key]
