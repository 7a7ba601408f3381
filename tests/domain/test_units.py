import pytest

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
