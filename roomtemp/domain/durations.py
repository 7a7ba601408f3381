"""ISO 8601 durations for query windows: weeks, days, hours, minutes and seconds only."""

import re
from datetime import timedelta
from decimal import Decimal

MAX_DURATION = timedelta(days=36525)  # 100 years of 365.25 days

_DURATION = re.compile(
    r"P(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?=\d)(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+(?:[.,]\d+)?)S)?)?",
    re.IGNORECASE,
)
# Years and months have no fixed length: recognised only to say so.
_CALENDAR = re.compile(r"P(?:\d+[YMWD])*\d+[YM](?:\d+[YMWD])*(?:T.*)?", re.IGNORECASE)
_SECONDS_PER = {"weeks": 604800, "days": 86400, "hours": 3600, "minutes": 60, "seconds": 1}


class InvalidDuration(ValueError):
    """The text is not a usable ISO 8601 duration; the message says why."""


class AmbiguousDuration(InvalidDuration):
    def __init__(self, text: str) -> None:
        super().__init__(
            f"{text!r} uses months or years, which have no fixed length: "
            "give the window in days instead (P30D, P365D)"
        )


def parse_duration(text: str) -> timedelta:
    """`PT15M` -> 15 minutes. Positive, at most 100 years, to the microsecond."""
    if text.startswith("-"):
        raise InvalidDuration(f"{text!r} is negative: a window must reach back from its end")
    match = _DURATION.fullmatch(text)
    parts = {name: part for name, part in (match.groupdict() if match else {}).items() if part}
    if not parts:
        if _CALENDAR.fullmatch(text):
            raise AmbiguousDuration(text)
        raise InvalidDuration(
            f"{text!r} is not an ISO 8601 duration such as PT15M, PT1H30M, P1D or P1W"
        )
    seconds = sum(
        Decimal(part.replace(",", ".")) * _SECONDS_PER[name] for name, part in parts.items()
    )
    if seconds > Decimal(MAX_DURATION.total_seconds()):
        raise InvalidDuration(f"{text!r} is longer than the 100 years a window may span")
    microseconds = int(seconds * 1_000_000)
    if microseconds <= 0:
        raise InvalidDuration(f"{text!r} is empty: a window must be at least a microsecond long")
    return timedelta(microseconds=microseconds)
