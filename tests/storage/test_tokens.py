"""The token part of the storage contract, on every backend."""

from datetime import UTC, datetime, timedelta

import pytest

from roomtemp.domain.access import Scope, TokenNameTaken, mint
from roomtemp.storage import MeasurementStore, migrate, open_store

T0 = datetime(2026, 11, 27, 12, 0, 0, 123456, tzinfo=UTC)
WRITE = frozenset({Scope.WRITE})


async def a_new_store_should_have_no_tokens(store: MeasurementStore) -> None:
    assert await store.tokens() == []


async def tokens_should_come_back_as_stored_oldest_first(store: MeasurementStore) -> None:
    _, sensor = mint("sensor-hall", WRITE, T0)
    _, dashboard = mint("dashboard", frozenset({Scope.READ, Scope.WRITE}), T0 + timedelta(hours=1))
    await store.add_token(dashboard)
    await store.add_token(sensor)
    assert await store.tokens() == [sensor, dashboard]


async def a_token_should_be_stored_as_its_digest_only(store: MeasurementStore) -> None:
    text, token = mint("sensor-hall", WRITE, T0)
    await store.add_token(token)
    (stored,) = await store.tokens()
    assert stored.digest == token.digest
    assert text.encode() not in repr(stored).encode()
    assert len(stored.digest) == 32


async def a_second_token_of_the_same_name_should_be_refused(store: MeasurementStore) -> None:
    _, first = mint("sensor-hall", WRITE, T0)
    _, second = mint("sensor-hall", frozenset({Scope.ADMIN}), T0)
    await store.add_token(first)
    with pytest.raises(TokenNameTaken):
        await store.add_token(second)
    assert await store.tokens() == [first]


async def revoking_should_forget_the_token_and_say_whether_there_was_one(
    store: MeasurementStore,
) -> None:
    _, sensor = mint("sensor-hall", WRITE, T0)
    _, other = mint("sensor-kitchen", WRITE, T0)
    await store.add_token(sensor)
    await store.add_token(other)
    assert await store.revoke_token("sensor-hall")
    assert not await store.revoke_token("sensor-hall")
    assert await store.tokens() == [other]


async def a_revoked_name_should_be_free_again(store: MeasurementStore) -> None:
    _, first = mint("sensor-hall", WRITE, T0)
    _, second = mint("sensor-hall", WRITE, T0)
    await store.add_token(first)
    await store.revoke_token("sensor-hall")
    await store.add_token(second)
    assert await store.tokens() == [second]


async def tokens_should_outlive_the_store_that_added_them(persistent_url: str) -> None:
    url = persistent_url
    await migrate(url)
    _, sensor = mint("sensor-hall", WRITE, T0)
    first = await open_store(url)
    await first.add_token(sensor)
    await first.close()
    second = await open_store(url)
    try:
        assert await second.tokens() == [sensor]
    finally:
        await second.close()
