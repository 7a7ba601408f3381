"""Temperature units: everything is stored in kelvin and converted at the edges."""

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
    if unit is _CELSIUS:
        return kelvin - 273.15
    if unit is _FAHRENHEIT:
        return kelvin * 9 / 5 - 459.67
    return kelvin
