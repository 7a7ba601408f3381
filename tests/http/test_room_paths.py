"""Every room id a batch accepts is addressable by its percent-encoded path, whatever it
holds: routing reads the raw path, so an encoded `/` is part of the room id, never a step."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from roomtemp.cli.connection import room_path
from roomtemp.domain.measurements import MAX_ROOM_ID_LENGTH, format_ts
from roomtemp.http.app import create_app
from roomtemp.settings import Settings
from roomtemp.storage.memory import InMemoryStore
from tests.http.conftest import NOW

AWKWARD = [
    "Floor 2/Room 5",
    "Kitchen/average/P1D",
    "a/b",
    "/",
    "//",
    "100%",
    "%2F",
    "%",
    "what?",
    "?unit=F",
    "#1",
    "a#b?c",
    ".",
    "..",
    "...",
    "../rooms",
    "a/../b",
    "./x",
    " spaced ",
    "+plus+",
    "客厅",
    "Кухня/Спальня",
    "غرفة النوم",
    "🛋️",
    "Caf\u00e9",
    "a;b=c",
    "\\",
    "x" * MAX_ROOM_ID_LENGTH,
    "日" * MAX_ROOM_ID_LENGTH,
]
ROUTE_WORDS = ["average", "series", "P1D", "PT1H", "measurements", "rooms", ""]
room_ids = st.one_of(
    st.sampled_from(AWKWARD),
    st.lists(
        st.one_of(
            st.sampled_from(["/", "%", "?", "#", ".", "..", " ", "%2F", "&"]),
            st.sampled_from(ROUTE_WORDS),
        ),
        min_size=1,
        max_size=6,
    )
    .map("".join)
    .filter(lambda text: text.strip() != "" or text != ""),
    st.text(st.characters(exclude_categories=["Cc", "Cs"]), min_size=1, max_size=20),
)
END = {"end": format_ts(NOW)}


@asynccontextmanager
async def serving() -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(Settings(database_url="memory://"), store=InMemoryStore(), clock=lambda: NOW)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://localhost") as client,
    ):
        yield client


async def round_trip(client: httpx.AsyncClient, room_id: str) -> None:
    """A batch stores room_id; each endpoint then reaches it by its path, and only it."""
    batch = [{"room_id": room_id, "v": 290.0, "ts": format_ts(NOW)}]
    assert (await client.post("/measurements", json=batch)).status_code == 200
    single = await client.post(room_path(room_id), json={"v": 291.0, "ts": "2026-11-27T11:00:00Z"})
    assert single.status_code == 201, single.text
    assert single.json()["room_id"] == room_id
    raw = await client.get(room_path(room_id), params=END)
    assert raw.status_code == 200, raw.text
    assert [item["v"] for item in raw.json()["items"]] == [291.0, 290.0]
    average = await client.get(room_path(room_id, "average", "P1D"), params=END)
    assert average.status_code == 200, average.text
    assert average.json()["count"] == 2
    series = await client.get(room_path(room_id, "series", "P1D"), params={**END, "bucket": "PT1H"})
    assert series.status_code == 200, series.text
    assert series.json()["room_id"] == room_id
    assert sum(point["count"] for point in series.json()["points"]) == 2
    rooms = {room["room_id"] for room in (await client.get("/rooms")).json()}
    assert room_id in rooms


@pytest.mark.parametrize("room_id", AWKWARD)
async def every_room_id_should_be_reachable_through_every_endpoint(
    room_id: str,
) -> None:
    async with serving() as client:
        await round_trip(client, room_id)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(room_id=room_ids)
async def any_room_id_a_batch_accepts_should_be_reachable_by_its_path(room_id: str) -> None:
    async with serving() as client:
        response = await client.post(
            "/measurements", json=[{"room_id": room_id, "v": 290.0, "ts": format_ts(NOW)}]
        )
        if response.status_code != 200:  # too long once in NFC, or not a room id at all
            assert response.status_code == 422
            return
        await client.post("/measurements", json=[{"room_id": "decoy", "v": 300.0}])
        average = await client.get(room_path(room_id, "average", "PT1H"), params=END)
        assert average.status_code == 200, average.text
        assert average.json()["max"] == 290.0


async def an_encoded_slash_should_never_reach_another_room_or_route() -> None:
    async with serving() as client:
        kitchen = [{"room_id": "Kitchen", "v": 290.0, "ts": format_ts(NOW)}]
        assert (await client.post("/measurements", json=kitchen)).status_code == 200
        confused = await client.get("/measurements/Kitchen%2Faverage%2FP1D", params=END)
        assert confused.status_code == 404
        assert confused.json()["code"] == "room_not_found"
        assert "Kitchen/average/P1D" in confused.json()["detail"]
        dots = await client.get(f"/measurements/{quote('..')}/average/P1D")
        assert dots.status_code == 404


async def invalid_utf8_in_a_room_path_should_be_refused_on_every_route() -> None:
    async with serving() as client:
        for response in [
            await client.post("/measurements/hall%FF", json={"v": 290.0}),
            await client.get("/measurements/hall%FF"),
            await client.get("/measurements/hall%FF/average/PT1H"),
            await client.get("/measurements/%E5%AE/series/PT1H", params={"bucket": "PT1M"}),
        ]:
            assert response.status_code == 422, response.text
            assert "UTF-8" in response.json()["detail"]
