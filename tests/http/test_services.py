"""The app's services: one frozen bundle, built by the lifespan, read through one accessor."""

import dataclasses
import gc

import pytest

from roomtemp.http.app import create_app
from roomtemp.http.services import Services
from roomtemp.settings import Settings
from roomtemp.storage.memory import InMemoryStore
from tests.http.conftest import app_client


async def the_lifespan_should_set_one_frozen_bundle_of_services() -> None:
    store = InMemoryStore()
    app = create_app(Settings(database_url="memory://", max_kelvin=400), store=store)
    async with app.router.lifespan_context(app):
        assert list(app.state._state) == ["services"]  # nothing else read by name
        services = app.state.services
        assert isinstance(services, Services)
        assert services.store is store
        assert services.limits.max_kelvin == 400
        with pytest.raises(dataclasses.FrozenInstanceError):
            services.store = InMemoryStore()  # type: ignore[misc]


@pytest.mark.parametrize("shared", [True, False])
async def single_writes_should_be_stored_by_the_recorder_either_way(shared: bool) -> None:
    store = InMemoryStore()
    settings = Settings(database_url="memory://", shared_commits=shared)
    async with app_client(settings, store=store) as client:
        response = await client.post("/measurements/Hall", json={"v": 21.5, "u": "C"})
        assert response.status_code == 201
    assert await store.has_room("Hall")


async def the_heap_built_at_start_up_should_be_frozen_out_of_the_collector_while_serving() -> None:
    """A full collection walked the start-up heap for ~42 ms, the p99 of long reads (make
    bench); frozen, it is left out until the app stops."""
    app = create_app(Settings(database_url="memory://"), store=InMemoryStore())
    before = gc.get_freeze_count()
    async with app.router.lifespan_context(app):
        assert gc.get_freeze_count() > before
    assert gc.get_freeze_count() == 0  # unfrozen: collectable again once the app is gone
