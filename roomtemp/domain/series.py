"""Series buckets: where each bucket of a chart starts, in UTC or at local midnights."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from roomtemp.domain.rollups import DAY, floor_to

MAX_BUCKETS = 10_000
_EPOCH_DAY = date(1970, 1, 1)


class InvalidBuckets(ValueError):
    """The buckets asked for cannot be drawn: too small, too many, or not whole local days."""


def bucket_edges(
    since: datetime, until: datetime, bucket: timedelta, zone: ZoneInfo | None = None
) -> list[datetime]:
    """The start of each bucket holding part of since <= ts <= until, then the end of the last.

    Buckets are aligned to multiples of their size since the Unix epoch; in a time zone,
    buckets of a day or more start at local midnight instead (so a day is 23 or 25 hours long
    where daylight saving time begins or ends)."""
    if bucket < timedelta(seconds=1):
        raise InvalidBuckets("a bucket must be at least a second long (PT1S)")
    if zone is None or bucket < DAY:
        first = floor_to(since, bucket)
        count = (until - first) // bucket + 1
        _check_count(count)
        return [first + index * bucket for index in range(count + 1)]
    if bucket % DAY:
        raise InvalidBuckets(
            "in a time zone, a bucket of a day or more must be whole days (P1D, P7D)"
        )
    days = bucket // DAY
    first_day = _floor_days(since.astimezone(zone).date(), days)
    last_day = until.astimezone(zone).date()
    count = (last_day - first_day).days // days + 1
    _check_count(count)
    return [
        datetime.combine(first_day + timedelta(days=index * days), time(), zone).astimezone(UTC)
        for index in range(count + 1)
    ]


def _floor_days(day: date, days: int) -> date:
    return _EPOCH_DAY + timedelta(days=(day - _EPOCH_DAY).days // days * days)


def _check_count(count: int) -> None:
    if count > MAX_BUCKETS:
        raise InvalidBuckets(
            f"that is {count} buckets, more than the {MAX_BUCKETS} a series may have:"
            " ask for larger buckets or a shorter window"
        )
