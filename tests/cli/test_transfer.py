"""`roomtemp import` and `roomtemp export` as users run them, against the real server."""

import csv
import io
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from random import Random
from urllib.parse import quote

import httpx
import pytest

from roomtemp.domain.units import Unit, from_kelvin, parse_unit, to_kelvin
from tests.blackbox.server import ROOMTEMP, Server, running_server


def roomtemp(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("ROOMTEMP_")}
    return subprocess.run(
        [str(ROOMTEMP), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        env=environment,
    )


@pytest.fixture(scope="module")
def sqlite_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One real server for the module; each test writes rooms of its own."""
    database = tmp_path_factory.mktemp("transfer") / "roomtemp.sqlite3"
    with running_server(f"sqlite:///{database}") as server:
        yield server


def stored(server: Server, room: str, unit: str = "K") -> list[tuple[str, float]]:
    response = httpx.get(f"{server.url}/measurements/{quote(room)}", params={"unit": unit})
    assert response.status_code == 200, response.text
    return [(item["ts"], item["v"]) for item in response.json()["items"]]


CSV_FILE = """\
room_id,ts,v,u
csv hall,2026-11-27T10:00:00Z,21.5,C
csv hall,2026-11-27T10:01:00Z,70.7,F
csv hall,2026-11-27T10:01:00Z,70.7,F
csv hall,2026-11-27T10:02:00Z,-500,C
"csv hall, upstairs",2026-11-27T10:03:00Z,294.65,K
csv hall,2026-11-27T10:04:00Z,abc,C
csv hall,,21,C
csv hall,2026-11-27T10:05:00Z,21,X

csv hall,2026-11-27T10:00:00Z,22.5,C
csv hall,2026-11-27T10:06:00Z,294.0
csv hall,2026-11-27T10:07:00,295.0,k
"""


def import_of_a_csv_file_should_store_the_valid_lines_and_name_the_others(
    sqlite_server: Server, tmp_path: Path
) -> None:
    path = tmp_path / "measurements.csv"
    path.write_text(CSV_FILE)
    result = roomtemp("import", str(path), "--url", sqlite_server.url)
    assert result.returncode == 1  # some lines were rejected
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"{path}: 11 measurements read in ")
    assert lines[1:] == [
        "  stored               4",
        "  duplicates           1  (stored already, with the same value)",
        "  rejected             6",
        "    line 5: v: -500.0 C is below absolute zero",
        "    line 7: v: 'abc' is not a number",
        "    line 8: ts: missing; an import needs the time of each measurement",
        "    line 9: u: Invalid enum value 'X'",
        "    line 11: conflict: another value is stored, or repeated in the batch, for this"
        " room and ts",
        "    line 12: 3 fields where the header has 4",
    ]
    hall = stored(sqlite_server, "csv hall", "C")
    assert [ts for ts, _ in hall] == [
        "2026-11-27T10:00:00Z",
        "2026-11-27T10:01:00Z",
        "2026-11-27T10:07:00Z",  # a ts without a zone is UTC
    ]
    assert [celsius for _, celsius in hall] == pytest.approx([21.5, 21.5, 295.0 - 273.15])
    assert stored(sqlite_server, "csv hall, upstairs") == [("2026-11-27T10:03:00Z", 294.65)]


def item_line(room: str, minute: int, **fields: object) -> str:
    return json.dumps({"room_id": room, "ts": f"2026-11-27T10:{minute:02}:00Z", **fields})


def import_of_ndjson_should_map_the_servers_refusals_back_to_line_numbers(
    sqlite_server: Server,
) -> None:
    room = "ndjson hall"
    text = "\n".join(
        [
            item_line(room, 0, v=21.0, u="C"),
            "",
            item_line(room, 1, v="21"),  # a string: the server refuses it
            item_line(room, 2, v=21.0, note="unknown field"),
            "{not json",
            item_line(room, 3, v=290.0),
            item_line("", 4, v=290.0),
            json.dumps({"room_id": room, "ts": "2099-01-01T00:00:00Z", "v": 290.0}),
            item_line(room, 0, v=21.0, u="C"),  # again: a duplicate
        ]
    )
    # Standard input, told apart by its first line; batches of 3 put failures in several.
    result = roomtemp("import", "-", "--batch-size", "3", "--url", sqlite_server.url, stdin=text)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith("standard input: 8 measurements read")
    assert lines[1:4] == [
        "  stored               2",
        "  duplicates           1  (stored already, with the same value)",
        "  rejected             5",
    ]
    rejected = dict(line.strip().split(": ", 1) for line in lines[4:])
    assert list(rejected) == ["line 3", "line 4", "line 5", "line 7", "line 8"]
    assert rejected["line 3"].startswith("v: ")
    assert "note" in rejected["line 4"]
    assert rejected["line 5"].startswith("not JSON")
    assert rejected["line 7"].startswith("room_id: ")
    assert rejected["line 8"].startswith("ts: ")
    assert [v for _, v in stored(sqlite_server, room)] == [pytest.approx(294.15), 290.0]


def a_batch_with_more_failures_than_the_server_lists_should_still_name_each(
    sqlite_server: Server, tmp_path: Path
) -> None:
    # The server lists the first 100 failing items of a batch: the rest are found by sending
    # again what is left.
    rows = [
        f"many,2026-11-27T{index // 60:02}:{index % 60:02}:00Z,{-1 if index % 6 else 290},K"
        for index in range(300)
    ]
    path = tmp_path / "many.csv"
    path.write_text("room_id,ts,v,u\n" + "\n".join(rows) + "\n")
    result = roomtemp("import", str(path), "--url", sqlite_server.url)
    lines = result.stdout.splitlines()
    assert lines[1] == "  stored              50"
    assert lines[3] == "  rejected           250"
    assert lines[4] == "    line 3: v: -1.0 K is below absolute zero"  # row 1, after the header
    assert lines[-1] == "    ... and 150 more"
    assert len(stored(sqlite_server, "many")) == 50


def export_should_round_trip_what_import_stored(sqlite_server: Server, tmp_path: Path) -> None:
    room = 'Export, "the" room'  # a name that CSV must quote
    random = Random(11)
    rows = [
        (room, f"2026-11-26T{hour:02}:{minute:02}:00Z", random.uniform(15, 25), unit)
        for hour in range(24)
        for minute, unit in zip(range(0, 60, 15), ["C", "F", "K", "c"], strict=True)
    ]
    rows = [  # posted in its unit: °C as drawn, the others converted
        (room, ts, from_kelvin(to_kelvin(celsius, Unit.CELSIUS), parse_unit(unit)), unit)
        for room, ts, celsius, unit in rows
    ]
    source = io.StringIO()
    csv.writer(source, lineterminator="\n").writerows([("room_id", "ts", "v", "u"), *rows])
    path = tmp_path / "source.csv"
    path.write_text(source.getvalue())
    assert roomtemp("import", str(path), "--url", sqlite_server.url).returncode == 0

    exported = roomtemp("export", room, "--unit", "F", "--url", sqlite_server.url)
    assert exported.returncode == 0, exported.stderr
    back = list(csv.DictReader(io.StringIO(exported.stdout)))
    assert [(row["room_id"], row["ts"], row["u"]) for row in back] == [
        (room, ts, "F") for _, ts, _, _ in rows
    ]
    for row, (_, _, value, unit) in zip(back, rows, strict=True):
        expected = from_kelvin(to_kelvin(value, parse_unit(unit)), Unit.FAHRENHEIT)
        assert float(row["v"]) == pytest.approx(expected, abs=1e-9)


def an_export_in_kelvin_should_restore_a_room_exactly(
    sqlite_server: Server, tmp_path: Path
) -> None:
    path = tmp_path / "backup.csv"
    path.write_text(CSV_FILE.replace("csv hall", "backup hall"))
    roomtemp("import", str(path), "--url", sqlite_server.url)
    backup = roomtemp("export", "backup hall", "--url", sqlite_server.url).stdout
    with running_server("memory://") as elsewhere:
        restored = roomtemp("import", "-", "--url", elsewhere.url, stdin=backup)
        assert restored.returncode == 0, restored.stdout
        assert roomtemp("export", "backup hall", "--url", elsewhere.url).stdout == backup
    assert backup.splitlines()[0] == "room_id,ts,v,u"
    assert len(backup.splitlines()) == 1 + 3


def export_should_keep_to_start_and_end(sqlite_server: Server, tmp_path: Path) -> None:
    path = tmp_path / "window.csv"
    path.write_text(
        "room_id,ts,v\n" + "".join(f"window,2026-11-27T0{h}:00:00Z,29{h}\n" for h in range(5))
    )
    roomtemp("import", str(path), "--url", sqlite_server.url)
    result = roomtemp(
        "export",
        "window",
        "--start",
        "2026-11-27T01:00:00Z",
        "--end",
        "2026-11-27T03:00:00Z",
        "--url",
        sqlite_server.url,
    )
    assert result.stdout.splitlines()[1:] == [
        "window,2026-11-27T01:00:00Z,291.0,K",
        "window,2026-11-27T02:00:00Z,292.0,K",
        "window,2026-11-27T03:00:00Z,293.0,K",
    ]


def export_of_an_unknown_room_should_say_so(sqlite_server: Server) -> None:
    result = roomtemp("export", "nowhere", "--url", sqlite_server.url)
    assert result.returncode == 1
    assert result.stderr == (
        "roomtemp export: the server answered 404: room 'nowhere' has no measurements at all\n"
    )
    assert result.stdout == ""


def import_of_a_missing_file_should_say_so() -> None:
    result = roomtemp("import", "/nonexistent/file.csv")
    assert result.returncode == 1
    assert result.stderr == (
        "roomtemp import: cannot read /nonexistent/file.csv: No such file or directory\n"
    )
