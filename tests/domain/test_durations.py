from datetime import timedelta

import pytest

from roomtemp.domain.durations import AmbiguousDuration, InvalidDuration, parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("PT15M", timedelta(minutes=15)),
        ("PT1H30M", timedelta(hours=1, minutes=30)),
        ("P1D", timedelta(days=1)),
        ("P7D", timedelta(days=7)),
        ("P1W", timedelta(weeks=1)),
        ("P1DT12H", timedelta(days=1, hours=12)),
        ("PT0.5S", timedelta(milliseconds=500)),
        ("PT1,5S", timedelta(milliseconds=1500)),
        ("pt15m", timedelta(minutes=15)),
        ("P36525D", timedelta(days=36525)),
    ],
)
def parse_duration_should_read_iso_8601(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["P1M", "P1Y", "P1Y2M", "P2MT1H", "P1Y10D"])
def parse_duration_should_refuse_months_and_years_and_suggest_days(text: str) -> None:
    with pytest.raises(AmbiguousDuration, match="days"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("PT0S", "empty"),
        ("P0D", "empty"),
        ("PT0.0000001S", "empty"),
        ("-PT15M", "negative"),
        ("P36526D", "100 years"),
        ("P99999999999999999999999999D", "100 years"),
        ("", "not an ISO 8601"),
        ("P", "not an ISO 8601"),
        ("PT", "not an ISO 8601"),
        ("P1DT", "not an ISO 8601"),
        ("15M", "not an ISO 8601"),
        ("PT1M1H", "not an ISO 8601"),
        ("P1.5D", "not an ISO 8601"),
        ("PT15M ", "not an ISO 8601"),
    ],
)
def parse_duration_should_refuse_what_is_no_positive_window(text: str, reason: str) -> None:
    with pytest.raises(InvalidDuration, match=reason):
        parse_duration(text)
