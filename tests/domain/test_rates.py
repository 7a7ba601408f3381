import pytest

from roomtemp.domain.rates import Buckets, InvalidRate, Rate, parse_rate


def rates_should_be_read_per_second_minute_or_hour() -> None:
    assert parse_rate("100/second") == Rate(100, 1.0)
    assert parse_rate(" 600 / Minute ") == Rate(600, 60.0)
    assert parse_rate("1000/hour").per_second == pytest.approx(1000 / 3600)


@pytest.mark.parametrize("text", ["", "100", "100/day", "0/second", "-1/second", "1.5/second"])
def anything_else_should_be_refused_with_the_expected_form(text: str) -> None:
    with pytest.raises(InvalidRate, match="100/second"):
        parse_rate(text)


def a_bucket_should_allow_a_whole_period_at_once_then_refill_steadily() -> None:
    buckets = Buckets(Rate(3, 60.0))  # one more request every 20 s
    assert [buckets.take("sensor", now=0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.take("sensor", now=0.0) == pytest.approx(20.0)
    assert buckets.take("sensor", now=15.0) == pytest.approx(5.0)
    assert buckets.take("sensor", now=20.0) == 0.0
    assert buckets.take("sensor", now=20.0) > 0.0


def a_refused_request_should_spend_nothing() -> None:
    buckets = Buckets(Rate(1, 10.0))
    assert buckets.take("sensor", now=0.0) == 0.0
    for _ in range(100):
        buckets.take("sensor", now=5.0)
    assert buckets.take("sensor", now=10.0) == 0.0


def each_key_should_have_its_own_bucket() -> None:
    buckets = Buckets(Rate(1, 60.0))
    assert buckets.take("sensor-hall", now=0.0) == 0.0
    assert buckets.take("sensor-hall", now=0.0) > 0.0
    assert buckets.take("sensor-kitchen", now=0.0) == 0.0


def a_bucket_should_never_hold_more_than_one_period() -> None:
    buckets = Buckets(Rate(2, 1.0))
    buckets.take("sensor", now=0.0)
    assert [buckets.take("sensor", now=1000.0) for _ in range(3)] == [0.0, 0.0, 0.5]


def forgotten_keys_should_start_afresh() -> None:
    buckets = Buckets(Rate(1, 60.0))
    buckets.take("revoked", now=0.0)
    buckets.take("kept", now=0.0)
    buckets.forget_all_but({"kept"})
    assert buckets.take("revoked", now=0.0) == 0.0
    assert buckets.take("kept", now=0.0) > 0.0
