"""The vault's keys: the master key fails closed (like the development signing key, the development
vault key is accepted in development only), and every seal is a fresh AES-GCM encryption bound to its
person and purpose."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from intake.adapters import crypto
from shared.settings import DEV_VAULT_MASTER_KEY, IntakeSettings

KEY = base64.b64encode(os.urandom(32)).decode()
# Production also refuses the development token issuer and key set: these tests name real ones.
ISSUER_KEY_SET = Path("/etc/asielketen/auth/jwks.json")


def test_development_runs_on_the_development_key_without_configuration() -> None:
    settings = IntakeSettings(service="intake", environment="development")
    assert settings.vault_master_key.get_secret_value() == DEV_VAULT_MASTER_KEY
    assert len(settings.master_key()) == 32


@pytest.mark.parametrize("environment", ["test", "production"])
def test_outside_development_a_real_key_is_required(environment: str) -> None:
    with pytest.raises(ValidationError, match="VAULT_MASTER_KEY is required"):
        IntakeSettings(
            service="intake", environment=environment, auth_issuer="urn:issuer", auth_jwks_path=ISSUER_KEY_SET
        )
    with pytest.raises(ValidationError, match="development key"):
        IntakeSettings(
            service="intake",
            environment=environment,
            auth_issuer="urn:issuer",
            auth_jwks_path=ISSUER_KEY_SET,
            vault_master_key=DEV_VAULT_MASTER_KEY,
        )
    settings = IntakeSettings(
        service="intake",
        environment=environment,
        auth_issuer="urn:issuer",
        auth_jwks_path=ISSUER_KEY_SET,
        vault_master_key=KEY,
    )
    assert settings.master_key() == base64.b64decode(KEY)


def test_a_malformed_key_is_refused_without_being_repeated() -> None:
    short = base64.b64encode(b"sixteen byte key").decode()
    for wrong, reason in ((short, "32 bytes"), ("not base64!", "not base64")):
        with pytest.raises(ValidationError, match=reason) as refused:
            IntakeSettings(service="intake", environment="test", vault_master_key=wrong)
        assert wrong not in str(refused.value)
    # nor is a valid key repeated when another setting is refused
    with pytest.raises(ValidationError) as refused:
        IntakeSettings(service="intake", environment="production", vault_master_key=KEY)
    assert KEY not in str(refused.value)


def test_sealing_twice_gives_two_ciphertexts_and_each_opens_only_for_its_person_and_field() -> None:
    key = crypto.VaultCipher.new_person_key()
    first = crypto.seal_field(key, "person-1", "name", "Selam Haile")
    second = crypto.seal_field(key, "person-1", "name", "Selam Haile")
    assert first != second  # a fresh nonce per write
    assert crypto.open_field(key, "person-1", "name", first) == "Selam Haile"
    for person, field in (("person-2", "name"), ("person-1", "other")):
        with pytest.raises(crypto.SealBroken):
            crypto.open_field(key, person, field, first)
    with pytest.raises(crypto.SealBroken):
        crypto.open_field(crypto.VaultCipher.new_person_key(), "person-1", "name", first)


def test_person_keys_are_wrapped_for_their_person_and_the_blind_index_needs_the_master_key() -> None:
    cipher = crypto.VaultCipher(base64.b64decode(KEY))
    person_key = cipher.new_person_key()
    wrapped = cipher.wrap("person-1", person_key)
    assert person_key not in wrapped and cipher.unwrap("person-1", wrapped) == person_key
    with pytest.raises(crypto.SealBroken):
        cipher.unwrap("person-2", wrapped)
    with pytest.raises(crypto.SealBroken):
        crypto.VaultCipher(os.urandom(32)).unwrap("person-1", wrapped)
    assert cipher.v_number_index("1234567890") == cipher.v_number_index("1234567890")
    assert cipher.v_number_index("1234567890") != crypto.VaultCipher(os.urandom(32)).v_number_index(
        "1234567890"
    )
    assert "1234567890" not in cipher.v_number_index("1234567890")
