"""Topic templates: `sensors/{room}/temperature` names the level that holds the room id.

A template is turned into the filter subscribed to ({room} becomes `+`) and matched against
the topic of each message to find its room.
"""

from dataclasses import dataclass

ROOM = "{room}"


class InvalidTemplate(ValueError):
    """A topic template roomtemp cannot subscribe with; the message says why."""


@dataclass(frozen=True, slots=True)
class Template:
    levels: tuple[str, ...]
    room_level: int

    @property
    def filter(self) -> str:
        """The topic filter to subscribe to."""
        return "/".join(
            "+" if index == self.room_level else level for index, level in enumerate(self.levels)
        )

    def room_of(self, topic: str) -> str | None:
        """The room a topic names, or None if the topic does not fit the template."""
        levels = topic.split("/")
        if self.levels[-1] == "#":
            if len(levels) < len(self.levels) - 1:
                return None
        elif len(levels) != len(self.levels):
            return None
        for pattern, level in zip(self.levels, levels, strict=False):
            if pattern not in ("+", "#", ROOM) and pattern != level:
                return None
        room = levels[self.room_level]
        return room or None  # an empty level names no room


def parse_template(text: str) -> Template:
    levels = tuple(text.strip().split("/"))
    rooms = [index for index, level in enumerate(levels) if ROOM in level]
    if len(rooms) != 1 or levels[rooms[0]] != ROOM:
        raise InvalidTemplate(
            f"topic template {text!r}: {ROOM} must stand alone for exactly one level,"
            " as in sensors/{room}/temperature"
        )
    for index, level in enumerate(levels):
        if ("#" in level and (level != "#" or index != len(levels) - 1)) or (
            "+" in level and level != "+"
        ):
            raise InvalidTemplate(
                f"topic template {text!r}: + stands alone for a level, # alone for the last"
            )
    return Template(levels, rooms[0])


def parse_templates(text: str) -> list[Template]:
    """The comma-separated templates of ROOMTEMP_MQTT_TOPICS."""
    templates = [parse_template(part) for part in text.split(",") if part.strip()]
    if not templates:
        raise InvalidTemplate("ROOMTEMP_MQTT_TOPICS names no topic template")
    return templates


def room_of(templates: list[Template], topic: str) -> str | None:
    """The room named by the first template the topic fits."""
    for template in templates:
        if (room := template.room_of(topic)) is not None:
            return room
    return None
