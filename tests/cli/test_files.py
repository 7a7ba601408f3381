"""Reading measurement files: formats, line numbers, and what is refused before sending."""

import io
from pathlib import Path

import pytest

from roomtemp.cli.measurement_files import NO_TS, Line, UnreadableFile, format_of, read_measurements


def lines_of(text: str, name: str | None = None) -> list[Line]:
    return list(read_measurements(io.StringIO(text, newline=""), Path(name) if name else None))


@pytest.mark.parametrize(
    ("name", "first_line", "expected"),
    [
        ("data.csv", '{"room_id": "x"}', "csv"),  # the suffix decides
        ("data.NDJSON", "room_id,ts,v,u", "ndjson"),
        ("data.jsonl", "", "ndjson"),
        ("data.txt", '  {"room_id": "x"}', "ndjson"),  # else the first line
        ("data.txt", "room_id,ts,v,u", "csv"),
        (None, '{"room_id": "x"}', "ndjson"),
    ],
)
def format_should_follow_the_suffix_else_the_first_line(
    name: str | None, first_line: str, expected: str
) -> None:
    assert format_of(Path(name) if name else None, first_line) == expected


def csv_lines_should_become_items_with_their_line_numbers() -> None:
    text = (
        "\n\nroom_id,ts,v,u\n"
        "hall,2026-11-27T10:00:00Z,21.5,C\n"
        "\n"
        "kitchen,2026-11-27T10:00:00Z,290,K\n"
    )
    assert lines_of(text) == [
        Line(4, {"room_id": "hall", "ts": "2026-11-27T10:00:00Z", "v": 21.5, "u": "C"}),
        Line(6, {"room_id": "kitchen", "ts": "2026-11-27T10:00:00Z", "v": 290.0, "u": "K"}),
    ]


def a_csv_field_over_two_lines_should_be_numbered_where_it_starts() -> None:
    text = 'room_id,ts,v\n"hall\nupstairs",2026-11-27T10:00:00Z,290\nhall,bad,x\n'
    numbers = [line.number for line in lines_of(text)]
    assert numbers == [2, 4]


def csv_columns_should_be_taken_in_any_order_and_u_may_be_left_out() -> None:
    [line] = lines_of("v,room_id,ts\n290.5,hall,2026-11-27T10:00:00Z\n")
    assert line.item == {"room_id": "hall", "ts": "2026-11-27T10:00:00Z", "v": 290.5}


def a_byte_order_mark_should_not_hide_the_header() -> None:
    raw = io.BytesIO("\ufeffroom_id,ts,v\nhall,2026-11-27T10:00:00Z,290\n".encode())
    [line] = read_measurements(io.TextIOWrapper(raw, encoding="utf-8-sig", newline=""))
    assert line.item is not None
    assert line.item["room_id"] == "hall"


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        ("hall,2026-11-27T10:00:00Z,abc,C", "v: 'abc' is not a number"),
        ("hall,2026-11-27T10:00:00Z,nan,C", "v: 'nan' is not a finite number"),
        ("hall,2026-11-27T10:00:00Z,inf,C", "v: 'inf' is not a finite number"),
        ("hall, ,21,C", NO_TS),
        ("hall,2026-11-27T10:00:00Z,21", "3 fields where the header has 4"),
    ],
)
def a_csv_line_that_cannot_be_sent_should_say_why(row: str, problem: str) -> None:
    assert lines_of(f"room_id,ts,v,u\n{row}\n") == [Line(2, None, problem)]


@pytest.mark.parametrize(
    "header", ["room_id,v,u", "room,ts,v,u", "room_id,ts,v,u,comment", "room_id,ts,v,v", ""]
)
def a_csv_header_without_the_columns_should_refuse_the_file(header: str) -> None:
    with pytest.raises(UnreadableFile, match="room_id,ts,v,u"):
        lines_of(f"{header}\nhall,2026-11-27T10:00:00Z,21,C\n", "data.csv")


def ndjson_lines_should_be_sent_as_they_are_or_refused_with_a_reason() -> None:
    text = (
        '{"room_id": "hall", "ts": "2026-11-27T10:00:00Z", "v": 21.5, "u": "C"}\n'
        "\n"
        "{not json\n"
        "[1, 2]\n"
        '{"room_id": "hall", "v": 21.5}\n'
        '{"room_id": "hall", "ts": "2026-11-27T10:01:00Z", "v": "21", "extra": 1}\n'
    )
    lines = lines_of(text)
    assert [line.number for line in lines] == [1, 3, 4, 5, 6]
    assert lines[0].item == {"room_id": "hall", "ts": "2026-11-27T10:00:00Z", "v": 21.5, "u": "C"}
    assert lines[1].problem is not None
    assert lines[1].problem.startswith("not JSON")
    assert lines[2].problem == "not a JSON object"
    assert lines[3].problem == NO_TS
    # Types and unknown fields are the server's to judge, as for any other client.
    assert lines[4].item == {"room_id": "hall", "ts": "2026-11-27T10:01:00Z", "v": "21", "extra": 1}
