"""The original acceptance scenario, against the real server on both persistent backends."""

import random
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import httpx
import pytest

from tests.blackbox.server import Server

ROOMS = ["Living room", "Kids room 2", "Master bed room", "kitchen"]


def acceptance_scenario_should_average_exactly_what_is_inside_the_window(server: Server) -> None:
    generator = random.Random(42)
    expected = {}
    with httpx.Client(base_url=server.url) as client:
        for room in ROOMS:
            inside = []
            for _ in range(generator.randint(3, 6)):
                # Minutes ago, kept clear of the 15-minute edge so that the seconds between
                # posting and asking cannot move a measurement across it.
                minutes = generator.choice([generator.uniform(0.5, 14), generator.uniform(16, 20)])
                # Naive UTC, as datetime.utcnow().isoformat() writes it.
                ts = (datetime.now(UTC) - timedelta(minutes=minutes)).replace(tzinfo=None)
                value = round(generator.uniform(290, 300), 3)
                response = client.post(
                    f"/measurements/{quote(room)}",
                    json={"v": value, "u": "K", "ts": ts.isoformat()},
                )
                assert response.status_code == 201, response.text
                if minutes < 15:
                    inside.append(value)
            expected[room] = inside
        for room, inside in expected.items():
            response = client.get(f"/measurements/{quote(room)}/average/PT15M")
            if not inside:
                assert response.status_code == 404
                assert response.json()["code"] == "no_measurements"
                continue
            assert response.status_code == 200, response.text
            body = response.json()
            assert body["u"] == "K"
            assert body["count"] == len(inside)
            assert body["v"] == pytest.approx(sum(inside) / len(inside), rel=1e-9)
            assert (body["min"], body["max"]) == (min(inside), max(inside))
