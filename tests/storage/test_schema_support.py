"""A schema migrated by newer roomtemp code: older code refuses to start on it, and a process
already running fails /readyz, each naming the versions, rather than keep writing without
what the new migration added. On every persistent backend."""

from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from roomtemp.http.app import create_app
from roomtemp.settings import Settings
from roomtemp.storage import SchemaNewerThanCode, migrate, migrations, open_store
from roomtemp.storage.migrations import OLDER_CODE_MAY_USE, Migration, migrations_for
from tests.blackbox.server import roomtemp
from tests.network import free_port

ADDS_A_TABLE = "CREATE TABLE future_things (id integer PRIMARY KEY);"


@contextmanager
def newer_code(monkeypatch: pytest.MonkeyPatch, sql: str) -> Iterator[None]:
    """This process as a roomtemp that ships one more migration, with `sql` in it."""
    shipped = migrations_for

    def with_one_more(backend: str) -> list[Migration]:
        known = shipped(backend)
        version = known[-1].version + 1
        return [*known, Migration(version, f"{version:04}_future", sql)]

    migrations.newest.cache_clear()
    monkeypatch.setattr(migrations, "migrations_for", with_one_more)
    try:
        yield
    finally:
        monkeypatch.setattr(migrations, "migrations_for", shipped)
        migrations.newest.cache_clear()


async def older_code_should_refuse_a_schema_that_a_newer_migration_changed(
    persistent_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    await migrate(persistent_url)
    with newer_code(monkeypatch, ADDS_A_TABLE):
        assert await migrate(persistent_url) == [f"{migrations.newest('sqlite'):04}_future"]
        newer = await open_store(persistent_url)  # the newer code itself serves it
        await newer.close()
    known = migrations.newest("sqlite")
    with pytest.raises(SchemaNewerThanCode) as refused:
        await open_store(persistent_url)
    assert f"migration {known + 1:04} or later" in str(refused.value)
    assert f"knows migrations up to {known:04}" in str(refused.value)


async def older_code_should_keep_serving_after_a_migration_that_says_it_may(
    persistent_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    await migrate(persistent_url)
    with newer_code(monkeypatch, f"{OLDER_CODE_MAY_USE}\n{ADDS_A_TABLE}"):
        await migrate(persistent_url)
    store = await open_store(persistent_url)
    await store.check()
    await store.close()


async def a_running_process_should_fail_readyz_once_newer_code_migrates(
    persistent_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    await migrate(persistent_url)
    store = await open_store(persistent_url)
    app = create_app(Settings(database_url=persistent_url), store=store)
    transport = httpx.ASGITransport(app=app)
    try:
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://localhost") as client,
        ):
            assert (await client.get("/readyz")).status_code == 200
            with newer_code(monkeypatch, ADDS_A_TABLE):
                await migrate(persistent_url)
            ready = await client.get("/readyz")
            assert ready.status_code == 503
            assert ready.json()["code"] == "schema_newer_than_code"
            assert "upgrade" in ready.json()["detail"]
            assert (await client.get("/healthz")).status_code == 200
    finally:
        await store.close()


async def serve_should_refuse_to_start_on_a_schema_newer_than_it(
    persistent_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    await migrate(persistent_url)
    with newer_code(monkeypatch, ADDS_A_TABLE):
        await migrate(persistent_url)
    result = roomtemp("serve", "--port", str(free_port()), "--database-url", persistent_url)
    assert result.returncode == 1
    known = migrations.newest("sqlite")
    assert f"needs roomtemp code that knows migration {known + 1:04} or later" in result.stderr
