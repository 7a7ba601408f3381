from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from roomtemp.domain.units import ABSOLUTE_ZERO, Unit, from_kelvin, to_kelvin


@pytest.mark.parametrize(
    ("value", "unit", "kelvin"),
    [
        (0.0, Unit.CELSIUS, 273.15),
        (32.0, Unit.FAHRENHEIT, 273.15),
        (293.4, Unit.KELVIN, 293.4),
        (-40.0, Unit.CELSIUS, 233.15),
    ],
)
def conversion_should_reach_kelvin_and_come_back(value: float, unit: Unit, kelvin: float) -> None:
    assert to_kelvin(value, unit) == pytest.approx(kelvin, abs=1e-12)
    assert from_kelvin(to_kelvin(value, unit), unit) == pytest.approx(value, abs=1e-9)


@pytest.mark.parametrize("unit", list(Unit))
def absolute_zero_should_be_exactly_zero_kelvin_in_every_unit(unit: Unit) -> None:
    assert to_kelvin(ABSOLUTE_ZERO[unit], unit) == 0.0


def minus_forty_should_be_the_same_in_celsius_and_fahrenheit() -> None:
    kelvin = to_kelvin(-40.0, Unit.CELSIUS)
    assert from_kelvin(kelvin, Unit.FAHRENHEIT) == pytest.approx(-40.0, abs=1e-9)


@pytest.mark.parametrize(
    ("kelvin", "unit", "expected"),
    [
        (294.1, Unit.CELSIUS, 20.95),  # not 20.950000000000045
        (294.1, Unit.FAHRENHEIT, 69.71),
        (293.15000000000003, Unit.CELSIUS, 20.0),  # 68 °F as stored, read in °C
        (0.0, Unit.CELSIUS, -273.15),
        (0.0, Unit.FAHRENHEIT, -459.67),
        (294.1, Unit.KELVIN, 294.1),
    ],
)
def values_read_in_a_unit_should_be_free_of_binary_noise(
    kelvin: float, unit: Unit, expected: float
) -> None:
    assert repr(from_kelvin(kelvin, unit)) == repr(expected)


def kelvin_should_come_back_exactly_as_stored() -> None:
    for kelvin in (294.1, 293.15000000000003, 0.1 + 0.2, 1e-300):
        assert from_kelvin(kelvin, Unit.KELVIN) == kelvin


# What a sensor reports (a few decimals), anywhere between absolute zero and a furnace.
@given(
    st.sampled_from([Unit.CELSIUS, Unit.FAHRENHEIT, Unit.KELVIN]),
    st.integers(min_value=0, max_value=2_000_000_000),
    st.integers(min_value=0, max_value=6),
)
def a_value_posted_in_a_unit_should_read_back_as_posted(
    unit: Unit, millionths: int, decimals: int
) -> None:
    above_zero = Decimal(millionths).scaleb(-decimals)  # up to 6 decimals, up to 2,000,000
    posted = float(Decimal(str(ABSOLUTE_ZERO[unit])) + above_zero)
    assert repr(from_kelvin(to_kelvin(posted, unit), unit)) == repr(posted)
