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
from pydantic import ValidationError

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
from shared.settings import DEFAULT_AUDIENCE, DEV_ISSUER, ServiceSettings
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


def hand_made(claims: dict[str, Any], key: Any, algorithm: str = "PS256", **header: Any) -> str:
    """A token signed here, with the header an access token has unless `header` changes it (PyJWT drops
    a `typ` of None)."""
    return jwt.encode(
        claims, key, algorithm=algorithm, headers={"kid": DEV_KEY_ID, "typ": "at+jwt", **header}
    )


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
    token = hand_made(valid_claims(iat=now, nbf=now + 300), dev_private_key)

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
    token = hand_made(valid_claims(), ec_key, algorithm="ES256")

    with pytest.raises(AuthenticationError):
        verifier.verify(token)


def test_a_token_signed_with_the_right_key_but_not_the_algorithm_the_key_set_names_is_refused(
    verifier: TokenVerifier, dev_private_key: bytes
) -> None:
    # the key set says PS256 (the Dutch OAuth profile's choice); RS256 with the very same key is refused
    token = hand_made(valid_claims(), dev_private_key, algorithm="RS256")

    with pytest.raises(AuthenticationError, match="alg value is not allowed"):
        verifier.verify(token)


def test_a_token_signed_with_an_unknown_kid_is_refused(verifier: TokenVerifier, token_for: MintToken) -> None:
    with pytest.raises(AuthenticationError, match="unknown key"):
        verifier.verify(token_for("COA", key_id="another-key"))


@pytest.mark.parametrize("claim", ["jti", "exp", "sub", "iat", "nbf"])
def test_a_token_without_a_required_claim_is_refused(
    verifier: TokenVerifier, dev_private_key: bytes, claim: str
) -> None:
    token = hand_made(valid_claims(**{claim: None}), dev_private_key)

    with pytest.raises(AuthenticationError, match=claim):
        verifier.verify(token)


def test_a_token_of_an_unknown_agency_is_refused(verifier: TokenVerifier, dev_private_key: bytes) -> None:
    token = hand_made(valid_claims(agency="ACME"), dev_private_key)

    with pytest.raises(AuthenticationError, match="agency"):
        verifier.verify(token)


def test_the_well_formed_hand_made_token_used_above_is_accepted(
    verifier: TokenVerifier, dev_private_key: bytes
) -> None:
    # the control for the hand-made refusals: with nothing removed, the same construction verifies
    token = hand_made(valid_claims(), dev_private_key)

    assert verifier.verify(token).scopes == {"placement:write"}


def test_a_principal_without_the_scope_is_not_authorised() -> None:
    principal = Principal(client_id="dtv-client", agency="DTV", scopes=frozenset(AGENCY_SCOPES["DTV"]))

    principal.require("return:write")
    with pytest.raises(AuthorisationError, match="intake:write"):
        principal.require("intake:write")


# --- the token type (RFC 9068 section 2.1, NL GOV OAuth profile) ------------------------------------


def test_a_minted_token_says_it_is_an_access_token(token_for: MintToken) -> None:
    assert jwt.get_unverified_header(token_for("COA"))["typ"] == "at+jwt"


@pytest.mark.parametrize("typ", [None, "JWT", "id_token+jwt", "at+jwt-ish"], ids=str)
def test_a_token_that_does_not_say_it_is_an_access_token_is_refused(
    verifier: TokenVerifier, dev_private_key: bytes, typ: str | None
) -> None:
    # e.g. an ID token the same issuer signed, with every claim an access token has
    token = hand_made(valid_claims(), dev_private_key, typ=typ)

    with pytest.raises(AuthenticationError, match="typ must be 'at\\+jwt'"):
        verifier.verify(token)


def test_the_access_token_type_may_be_written_as_its_full_media_type(
    verifier: TokenVerifier, dev_private_key: bytes
) -> None:
    token = hand_made(valid_claims(), dev_private_key, typ="application/AT+JWT")

    assert verifier.verify(token).agency == "COA"


# --- key rotation without a restart ---------------------------------------------------------------

RELOAD_S = 30.0


class Ticks:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Issuer:
    """A token issuer that rotates its signing keys by rewriting the key set file the service reads."""

    def __init__(self, jwks_path: Path) -> None:
        self.jwks_path = jwks_path
        self.private_keys: dict[str, bytes] = {}

    def add_key(self, key_id: str) -> None:
        private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.private_keys[key_id] = private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        self._publish(key_id, private_key.public_key())

    def remove_key(self, key_id: str) -> None:
        del self.private_keys[key_id]
        jwks = json.loads(self.jwks_path.read_text())
        jwks["keys"] = [entry for entry in jwks["keys"] if entry["kid"] != key_id]
        self.jwks_path.write_text(json.dumps(jwks))

    def token(self, key_id: str) -> str:
        return mint_token(
            self.private_keys[key_id],
            agency="COA",
            issuer=DEV_ISSUER,
            audience=DEFAULT_AUDIENCE,
            key_id=key_id,
        )

    def _publish(self, key_id: str, public_key: rsa.RSAPublicKey) -> None:
        jwks = json.loads(self.jwks_path.read_text()) if self.jwks_path.exists() else {"keys": []}
        entry = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(public_key))
        entry.update({"kid": key_id, "use": "sig", "alg": "PS256"})
        jwks["keys"].append(entry)
        self.jwks_path.write_text(json.dumps(jwks))


@pytest.fixture
def issuer(tmp_path: Path) -> Issuer:
    issuer = Issuer(tmp_path / "jwks.json")
    issuer.add_key("key-2026-01")
    return issuer


@pytest.fixture
def ticks() -> Ticks:
    return Ticks()


@pytest.fixture
def rotating_verifier(issuer: Issuer, ticks: Ticks) -> TokenVerifier:
    return TokenVerifier.from_file(
        issuer.jwks_path,
        issuer=DEV_ISSUER,
        audience=DEFAULT_AUDIENCE,
        reload_interval_s=RELOAD_S,
        clock=ticks,
    )


def test_a_key_the_issuer_adds_is_accepted_without_a_restart(
    issuer: Issuer, ticks: Ticks, rotating_verifier: TokenVerifier
) -> None:
    # given a running service that knows the issuer's first key
    assert rotating_verifier.verify(issuer.token("key-2026-01")).agency == "COA"

    # when the issuer publishes a second key and, a reload interval later, signs with it
    issuer.add_key("key-2026-07")
    ticks.now += RELOAD_S

    # then the service accepts it, and still the first one
    assert rotating_verifier.verify(issuer.token("key-2026-07")).agency == "COA"
    assert rotating_verifier.verify(issuer.token("key-2026-01")).agency == "COA"


def test_a_key_the_issuer_removes_is_refused_after_the_next_read(
    issuer: Issuer, ticks: Ticks, rotating_verifier: TokenVerifier
) -> None:
    # given tokens signed with the old key, which the service accepts
    old_token = issuer.token("key-2026-01")
    assert rotating_verifier.verify(old_token).agency == "COA"

    # when the issuer rotates to a new key and withdraws the old one (say it leaked)
    issuer.add_key("key-2026-07")
    issuer.remove_key("key-2026-01")
    ticks.now += RELOAD_S

    # then a reload interval later the old key's tokens are refused, the new key's accepted
    with pytest.raises(AuthenticationError, match="unknown key"):
        rotating_verifier.verify(old_token)
    assert rotating_verifier.verify(issuer.token("key-2026-07")).agency == "COA"


def test_tokens_naming_made_up_keys_read_the_key_set_at_most_once_per_interval(
    issuer: Issuer, ticks: Ticks, rotating_verifier: TokenVerifier, dev_private_key: bytes
) -> None:
    # given a client that sends a token with a made-up key id after the interval: the set is read again
    ticks.now += RELOAD_S
    read_at = ticks.now
    with pytest.raises(AuthenticationError, match="unknown key"):
        rotating_verifier.verify(hand_made(valid_claims(), dev_private_key, kid="made-up-0"))

    # when the issuer adds a key just after, while the client keeps sending made-up key ids
    issuer.add_key("key-2026-07")
    for attempt in range(1, 200):
        ticks.now = read_at + attempt * (RELOAD_S - 1) / 200
        with pytest.raises(AuthenticationError, match="unknown key"):
            rotating_verifier.verify(hand_made(valid_claims(), dev_private_key, kid=f"made-up-{attempt}"))

    # then none of them made the service read the file again: the new key is not known yet ...
    with pytest.raises(AuthenticationError, match="unknown key"):
        rotating_verifier.verify(issuer.token("key-2026-07"))
    # ... until a whole interval has passed since the last read
    ticks.now = read_at + RELOAD_S
    assert rotating_verifier.verify(issuer.token("key-2026-07")).agency == "COA"


def test_a_key_set_file_caught_halfway_through_a_rewrite_leaves_the_keys_in_place(
    issuer: Issuer, ticks: Ticks, rotating_verifier: TokenVerifier
) -> None:
    issuer.jwks_path.write_text('{"keys": [{"kty": "RSA", "kid": "key-2026-')
    ticks.now += RELOAD_S

    assert rotating_verifier.verify(issuer.token("key-2026-01")).agency == "COA"


def test_a_verifier_made_from_a_key_set_in_memory_never_reads_a_file(issuer: Issuer, ticks: Ticks) -> None:
    verifier = TokenVerifier(
        json.loads(issuer.jwks_path.read_text()), issuer=DEV_ISSUER, audience=DEFAULT_AUDIENCE
    )
    issuer.add_key("key-2026-07")
    ticks.now += RELOAD_S

    with pytest.raises(AuthenticationError, match="unknown key"):
        verifier.verify(issuer.token("key-2026-07"))


# --- the development issuer and key set are refused in production ------------------------------------

PRODUCTION_ISSUER = "https://sso.asielketen.example/realms/keten"


def test_production_refuses_the_development_issuer(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="development issuer"):
        ServiceSettings(service="placement", environment="production", auth_jwks_path=tmp_path / "jwks.json")


@pytest.mark.parametrize("named", [False, True], ids=["by default", "named explicitly"])
def test_production_refuses_the_development_key_set(tmp_path: Path, named: bool) -> None:
    # `asielketen token` keeps the development key set beside its private key under the data folder
    key_set = tmp_path / "auth" / "jwks.json" if named else None

    with pytest.raises(ValidationError, match="development key set"):
        ServiceSettings(
            service="placement",
            environment="production",
            data_dir=tmp_path,
            auth_issuer=PRODUCTION_ISSUER,
            auth_jwks_path=key_set,
        )


def test_production_runs_with_the_real_issuer_and_key_set_and_development_with_neither(
    tmp_path: Path,
) -> None:
    # the control for the two refusals above
    production = ServiceSettings(
        service="placement",
        environment="production",
        data_dir=tmp_path,
        auth_issuer=PRODUCTION_ISSUER,
        auth_jwks_path=Path("/etc/asielketen/auth/jwks.json"),
    )
    development = ServiceSettings(service="placement", environment="development", data_dir=tmp_path)

    assert production.auth_issuer == PRODUCTION_ISSUER
    assert (development.auth_issuer, development.auth_jwks_path) == (
        DEV_ISSUER,
        tmp_path / "auth" / "jwks.json",
    )
