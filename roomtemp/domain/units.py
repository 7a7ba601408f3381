"""Temperature units: everything is stored in kelvin and converted at the edges."""

import math
from enum import StrEnum


class Unit(StrEnum):
    KELVIN = "K"
    CELSIUS = "C"
    FAHRENHEIT = "F"


class UnknownUnit(ValueError):
    def __init__(self, text: str) -> None:
        super().__init__(f"unknown unit {text!r}: use K, C or F")


_BY_TEXT = {text: unit for unit in Unit for text in (unit.value, unit.value.lower())}


def parse_unit(text: str) -> Unit:
    """The unit named by `text`, case-insensitively ("k", "C", ...)."""
    try:
        return _BY_TEXT[text]
    except KeyError:
        raise UnknownUnit(text) from None


# Absolute zero in each unit. The conversions below are written so that these map to exactly
# 0.0 K, which lets validation compare in the posted unit without rounding surprises.
ABSOLUTE_ZERO = {Unit.KELVIN: 0.0, Unit.CELSIUS: -273.15, Unit.FAHRENHEIT: -459.67}


# Looking a member up on an Enum class costs ~80 ns each time; these are looked up once.
_CELSIUS, _FAHRENHEIT = Unit.CELSIUS, Unit.FAHRENHEIT


def to_kelvin(value: float, unit: Unit) -> float:
    if unit is _CELSIUS:
        return value + 273.15
    if unit is _FAHRENHEIT:
        return (value + 459.67) * 5 / 9
    return value


def from_kelvin(kelvin: float, unit: Unit) -> float:
    """`kelvin` in `unit`, free of the binary noise that converting adds: 294.1 K is 20.95 °C,
    not 20.950000000000045. Kelvin comes back as it is."""
    if unit is _CELSIUS:
        return _without_noise(kelvin - 273.15, kelvin)
    if unit is _FAHRENHEIT:
        return _without_noise(kelvin * 9 / 5 - 459.67, kelvin * 9 / 5)
    return kelvin


def _without_noise(value: float, operand: float) -> float:
    """`value`, computed from `operand` and a constant of a few hundred, rounded to 15
    significant digits of the larger of the two. A float64 holds 15 to 17, and the last of them
    are the conversion's rounding error: what is rounded away was never measured."""
    magnitude = max(abs(operand), 459.67)
    return round(value, 14 - math.floor(math.log10(magnitude)))
