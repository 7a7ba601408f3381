from datetime import UTC, datetime

import pytest

from roomtemp.domain.access import (
    ADMIN_TOKEN_ID,
    InvalidTokenName,
    Keyring,
    Scope,
    UnknownScope,
    allows,
    format_scopes,
    mint,
    parse_scopes,
)

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
WRITE = frozenset({Scope.WRITE})


def a_minted_token_should_be_recognisable_and_high_entropy() -> None:
    text, token = mint("sensor-hall", WRITE, NOW)
    secret = text.removeprefix(f"rt_{token.token_id}_")
    assert secret != text
    assert len(secret) == 43  # 32 random bytes, base64url
    assert token.name == "sensor-hall"
    assert token.scopes == WRITE
    assert token.created == NOW


def no_two_minted_tokens_should_be_alike() -> None:
    minted = [mint("sensor", WRITE, NOW) for _ in range(100)]
    assert len({text for text, _ in minted}) == 100
    assert len({token.token_id for _, token in minted}) == 100


def the_record_of_a_token_should_not_hold_the_token() -> None:
    text, token = mint("sensor-hall", WRITE, NOW)
    assert text not in repr(token)
    assert text.encode() not in token.digest


@pytest.mark.parametrize("name", ["", "-leading-dash", "with space", "a" * 65, "ünïcode", "a/b"])
def a_name_that_cannot_be_typed_plainly_should_be_refused(name: str) -> None:
    with pytest.raises(InvalidTokenName):
        mint(name, WRITE, NOW)


def scopes_should_be_parsed_case_insensitively_and_unknown_ones_refused() -> None:
    assert parse_scopes(["Read", "write "]) == {Scope.READ, Scope.WRITE}
    with pytest.raises(UnknownScope, match="'delete'"):
        parse_scopes(["read", "delete"])
    with pytest.raises(UnknownScope):
        parse_scopes([])


def scopes_should_be_written_in_a_fixed_order() -> None:
    assert format_scopes(frozenset({Scope.ADMIN, Scope.READ})) == "read admin"


def admin_should_imply_read_and_write_but_write_not_read() -> None:
    admin = frozenset({Scope.ADMIN})
    assert allows(admin, Scope.READ)
    assert allows(admin, Scope.WRITE)
    assert allows(WRITE, Scope.WRITE)
    assert not allows(WRITE, Scope.READ)
    assert not allows(frozenset({Scope.READ}), Scope.WRITE)


def a_keyring_should_grant_a_stored_token_its_scopes() -> None:
    text, token = mint("sensor-hall", WRITE, NOW)
    grant = Keyring([token], admin_token=None).grant(text)
    assert grant is not None
    assert (grant.token_id, grant.scopes) == (token.token_id, WRITE)


def a_keyring_should_refuse_a_token_whose_secret_is_wrong() -> None:
    text, token = mint("sensor-hall", WRITE, NOW)
    forged = text[:-4] + ("AAAA" if not text.endswith("AAAA") else "BBBB")
    keyring = Keyring([token], admin_token=None)
    assert keyring.grant(forged) is None
    assert keyring.grant("") is None
    assert keyring.grant(token.token_id) is None


def a_keyring_should_grant_the_admin_token_admin() -> None:
    keyring = Keyring([], admin_token="correct horse battery staple")
    grant = keyring.grant("correct horse battery staple")
    assert grant is not None
    assert (grant.token_id, grant.scopes) == (ADMIN_TOKEN_ID, frozenset({Scope.ADMIN}))
    assert keyring.grant("correct horse battery stapler") is None


def a_keyring_should_be_empty_only_without_any_token() -> None:
    _, token = mint("sensor-hall", WRITE, NOW)
    assert Keyring([], None).empty
    assert not Keyring([token], None).empty
    assert not Keyring([], "an admin token").empty
