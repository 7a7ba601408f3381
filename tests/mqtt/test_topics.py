import pytest
from hypothesis import given
from hypothesis import strategies as st

from roomtemp.mqtt.topics import InvalidTemplate, parse_template, parse_templates, room_of

# A topic level: any text but the separator (and not empty: an empty level names no room).
LEVEL = st.text(st.characters(exclude_characters="/", exclude_categories=["Cs"]), min_size=1)


@pytest.mark.parametrize(
    ("template", "expected_filter"),
    [
        ("roomtemp/{room}", "roomtemp/+"),
        ("sensors/{room}/temperature", "sensors/+/temperature"),
        ("{room}/sensor/+/state", "+/sensor/+/state"),
        ("tele/{room}/#", "tele/+/#"),
    ],
)
def a_template_should_subscribe_with_its_room_level_as_a_wildcard(
    template: str, expected_filter: str
) -> None:
    assert parse_template(template).filter == expected_filter


@given(room=LEVEL, name=LEVEL)
def a_topic_should_name_the_room_at_the_template_s_room_level(room: str, name: str) -> None:
    templates = parse_templates("zigbee2mqtt/{room}, {room}/sensor/+/state")
    assert room_of(templates, f"{room}/sensor/{name}/state") == room
    if "+" not in room and "#" not in room:
        assert room_of(templates, f"zigbee2mqtt/{room}") == room


@pytest.mark.parametrize(
    "topic",
    [
        "sensors/kitchen",
        "sensors/kitchen/humidity",
        "other/kitchen/temperature",
        "sensors//temperature",
    ],
)
def a_topic_that_does_not_fit_should_name_no_room(topic: str) -> None:
    assert room_of(parse_templates("sensors/{room}/temperature"), topic) is None


def a_multi_level_wildcard_should_match_any_rest() -> None:
    templates = parse_templates("tele/{room}/#")
    assert room_of(templates, "tele/hall/SENSOR") == "hall"
    assert room_of(templates, "tele/hall/a/b") == "hall"
    assert room_of(templates, "stat/hall/SENSOR") is None


@pytest.mark.parametrize(
    "template",
    ["roomtemp/room", "{room}/{room}", "room-{room}/x", "a/#/{room}", "a/b+/{room}", " , "],
)
def a_template_without_exactly_one_whole_room_level_should_be_refused(template: str) -> None:
    with pytest.raises(InvalidTemplate):
        parse_templates(template)
