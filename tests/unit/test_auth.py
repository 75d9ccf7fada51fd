"""Bearer tokens: only a well-formed, current token signed by a configured key names a principal."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from shared.auth import (
    AGENCY_SCOPES,
    DEV_KEY_ID,
    AuthenticationError,
    AuthorisationError,
    Principal,
    TokenVerifier,
    mint_token,
)
from shared.ids import new_id
from shared.settings import DEFAULT_AUDIENCE, DEV_ISSUER
from tests.fixtures import MintToken


@pytest.fixture(scope="module")
def verifier(auth_dir: Path) -> TokenVerifier:
    return TokenVerifier.from_file(auth_dir / "jwks.json", issuer=DEV_ISSUER, audience=DEFAULT_AUDIENCE)


@pytest.fixture(scope="module")
def dev_private_key(auth_dir: Path) -> bytes:
    return (auth_dir / "dev-private-key.pem").read_bytes()


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def valid_claims(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "iss": DEV_ISSUER,
        "aud": DEFAULT_AUDIENCE,
        "sub": "coa-client",
        "azp": "coa-client",
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        "jti": new_id(),
        "agency": "COA",
        "scope": "placement:write",
    }
    claims.update(changes)
    return {key: value for key, value in claims.items() if value is not None}


def unsigned(header: dict[str, Any], claims: dict[str, Any]) -> str:
    return f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}"


def test_a_valid_token_names_the_agency_client_and_its_scopes(
    verifier: TokenVerifier, token_for: MintToken
) -> None:
    principal = verifier.verify(token_for("COA", client_id="coa-planner"))

    assert principal == Principal(
        client_id="coa-planner", agency="COA", scopes=frozenset(AGENCY_SCOPES["COA"]), municipality=None
    )
    assert principal.actor == "COA:coa-planner"


def test_a_municipality_token_carries_its_municipality(verifier: TokenVerifier, token_for: MintToken) -> None:
    principal = verifier.verify(token_for("GEMEENTE", municipality="GM0014"))

    assert (principal.agency, principal.municipality) == ("GEMEENTE", "GM0014")


def test_a_token_within_the_clock_leeway_is_accepted(verifier: TokenVerifier, token_for: MintToken) -> None:
    # issued 10 s "in the future" by an issuer whose clock runs a little ahead
    principal = verifier.verify(token_for("IND", now=int(time.time()) + 10))

    assert principal.agency == "IND"


@pytest.mark.parametrize(
    "token", ["", "garbage", "a.b.c", "Bearer x"], ids=["empty", "garbage", "dots", "scheme"]
)
def test_a_missing_or_malformed_token_is_refused(verifier: TokenVerifier, token: str) -> None:
    with pytest.raises(AuthenticationError):
        verifier.verify(token)


def test_an_expired_token_is_refused(verifier: TokenVerifier, token_for: MintToken) -> None:
    token = token_for("COA", now=int(time.time()) - 3600, lifetime_s=600)

    with pytest.raises(AuthenticationError, match=r"(?i)expired"):
        verifier.verify(token)


def test_a_token_not_yet_valid_beyond_the_leeway_is_refused(
    verifier: TokenVerifier, dev_private_key: bytes
) -> None:
    now = int(time.time())
    token = jwt.encode(
        valid_claims(iat=now, nbf=now + 300), dev_private_key, algorithm="PS256", headers={"kid": DEV_KEY_ID}
    )

    with pytest.raises(AuthenticationError, match=r"(?i)not yet valid"):
        verifier.verify(token)


def test_a_token_of_another_issuer_is_refused(verifier: TokenVerifier, token_for: MintToken) -> None:
    with pytest.raises(AuthenticationError, match=r"(?i)issuer"):
        verifier.verify(token_for("COA", issuer="urn:someone-else"))


def test_a_token_for_another_audience_is_refused(verifier: TokenVerifier, token_for: MintToken) -> None:
    with pytest.raises(AuthenticationError, match=r"(?i)audience"):
        verifier.verify(token_for("COA", audience="another-api"))


def test_an_unsigned_alg_none_token_is_refused(verifier: TokenVerifier) -> None:
    token = unsigned({"alg": "none", "typ": "JWT", "kid": DEV_KEY_ID}, valid_claims()) + "."

    with pytest.raises(AuthenticationError):
        verifier.verify(token)


def test_a_token_hmac_signed_with_the_public_key_is_refused(verifier: TokenVerifier, auth_dir: Path) -> None:
    # the classic algorithm confusion: HS256 with the (public) verification key as the shared secret
    jwk = json.loads((auth_dir / "jwks.json").read_text())["keys"][0]
    public_pem = jwt.PyJWK(jwk).key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    signing_input = unsigned({"alg": "HS256", "typ": "JWT", "kid": DEV_KEY_ID}, valid_claims())
    signature = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()

    with pytest.raises(AuthenticationError):
        verifier.verify(f"{signing_input}.{b64url(signature)}")


def test_a_token_signed_by_another_key_with_the_same_kid_is_refused(verifier: TokenVerifier) -> None:
    impostor = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    token = mint_token(
        impostor, agency="COA", issuer=DEV_ISSUER, audience=DEFAULT_AUDIENCE, key_id=DEV_KEY_ID
    )

    with pytest.raises(AuthenticationError, match=r"(?i)signature"):
        verifier.verify(token)


def test_a_token_with_an_algorithm_the_key_is_not_for_is_refused(verifier: TokenVerifier) -> None:
    ec_key = ec.generate_private_key(ec.SECP256R1())
    token = jwt.encode(valid_claims(), ec_key, algorithm="ES256", headers={"kid": DEV_KEY_ID})

    with pytest.raises(AuthenticationError):
        verifier.verify(token)


def test_a_token_signed_with_the_right_key_but_not_the_algorithm_the_key_set_names_is_refused(
    verifier: TokenVerifier, dev_private_key: bytes
) -> None:
    # the key set says PS256 (the Dutch OAuth profile's choice); RS256 with the very same key is refused
    token = jwt.encode(valid_claims(), dev_private_key, algorithm="RS256", headers={"kid": DEV_KEY_ID})

    with pytest.raises(AuthenticationError, match="alg value is not allowed"):
        verifier.verify(token)


def test_a_token_signed_with_an_unknown_kid_is_refused(verifier: TokenVerifier, token_for: MintToken) -> None:
    with pytest.raises(AuthenticationError, match="unknown key"):
        verifier.verify(token_for("COA", key_id="another-key"))


@pytest.mark.parametrize("claim", ["jti", "exp", "sub", "iat", "nbf"])
def test_a_token_without_a_required_claim_is_refused(
    verifier: TokenVerifier, dev_private_key: bytes, claim: str
) -> None:
    token = jwt.encode(
        valid_claims(**{claim: None}), dev_private_key, algorithm="PS256", headers={"kid": DEV_KEY_ID}
    )

    with pytest.raises(AuthenticationError, match=claim):
        verifier.verify(token)


def test_a_token_of_an_unknown_agency_is_refused(verifier: TokenVerifier, dev_private_key: bytes) -> None:
    token = jwt.encode(
        valid_claims(agency="ACME"), dev_private_key, algorithm="PS256", headers={"kid": DEV_KEY_ID}
    )

    with pytest.raises(AuthenticationError, match="agency"):
        verifier.verify(token)


def test_the_well_formed_hand_made_token_used_above_is_accepted(
    verifier: TokenVerifier, dev_private_key: bytes
) -> None:
    # the control for the hand-made refusals: with nothing removed, the same construction verifies
    token = jwt.encode(valid_claims(), dev_private_key, algorithm="PS256", headers={"kid": DEV_KEY_ID})

    assert verifier.verify(token).scopes == {"placement:write"}


def test_a_principal_without_the_scope_is_not_authorised() -> None:
    principal = Principal(client_id="dtv-client", agency="DTV", scopes=frozenset(AGENCY_SCOPES["DTV"]))

    principal.require("return:write")
    with pytest.raises(AuthorisationError, match="intake:write"):
        principal.require("intake:write")
