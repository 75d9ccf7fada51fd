"""Bearer-token authentication and scope-based authorisation (OAuth 2.0, JWT access tokens, RFC 9068).

Tokens are verified against a key set (JWKS) the service loads at start and re-reads while it runs (so
the issuer can rotate keys without a restart): the algorithm is fixed by the key, never taken from the
token, so `alg=none` and HS/RS confusion cannot pass; the header must say `typ: at+jwt` (an access token,
not an ID token or another JWT signed by the same issuer); issuer, audience, expiry, not-before,
issued-at, subject and `jti` are required. Scopes say what a client may do, per agency: see AGENCY_SCOPES.

A development key pair is created by `asielketen token` / `make run` under the data folder; production
configures the real issuer's key set instead (settings refuse the development issuer and the development
key set's place under the data folder there).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from shared.ids import new_id

log = logging.getLogger(__name__)

# Only asymmetric algorithms; PS256 is what the Dutch OAuth profile prefers.
ALLOWED_ALGORITHMS = {"RSA": ["PS256", "RS256"], "EC": ["ES256"]}
REQUIRED_CLAIMS = ["iss", "aud", "exp", "iat", "nbf", "sub", "jti"]
# RFC 9068 section 2.1 (and the NL GOV OAuth profile): an access token says so in its JOSE header, so an ID
# token or any other JWT the same issuer signs cannot be replayed as one. `application/at+jwt` is the same
# media type written in full (RFC 7515 section 4.1.9); media types compare case-insensitively.
ACCESS_TOKEN_TYPE = "at+jwt"
# How often, at most, a verifier built from a file re-reads its key set (AUTH_JWKS_RELOAD_S).
DEFAULT_KEY_SET_RELOAD_S = 60.0

# What each agency's clients may do. Reads of the chain-wide history are for the agencies with a task
# that needs them; writes are per owning service. Personal data in intake's identity vault has scopes of
# its own: `intake:identity` opens a person's whole vault record (the agencies that identify people and
# decide on their application), `intake:unseal` opens one sealed field that travelled in an event (a name
# COA or a municipality needs to house someone). Erasure is an operator's act, outside any agency's
# daily work: `asielketen:operator`, held only by the privacy operator's clients.
OPERATOR_SCOPE = "asielketen:operator"
AGENCY_SCOPES: dict[str, tuple[str, ...]] = {
    "AVIM": ("intake:write", "intake:read", "intake:identity", "intake:unseal", "history:read"),
    "IND": (
        "intake:write",
        "intake:read",
        "intake:identity",
        "intake:unseal",
        "procedure:write",
        "procedure:read",
        "history:read",
    ),
    "COA": ("placement:write", "placement:read", "intake:read", "intake:unseal", "history:read"),
    "DTV": ("return:write", "return:read", "history:read"),
    "GEMEENTE": ("housing:read", "intake:unseal"),
    "AUDIT": ("history:read", "audit:read", "intake:read", "placement:read", "procedure:read", "return:read"),
    "OPERATOR": (OPERATOR_SCOPE, "intake:read"),
    # The provincial and national steering tables (PRT, LRT): aggregates only, under disclosure control.
    "REGIETAFEL": ("statistics:read",),
}


class AuthenticationError(Exception):
    """No token, or a token that does not verify: HTTP 401."""


class AuthorisationError(Exception):
    """A valid token without the scope the operation needs: HTTP 403."""


@dataclass(frozen=True, slots=True)
class Principal:
    client_id: str
    agency: str
    scopes: frozenset[str]
    municipality: str | None = None

    @property
    def actor(self) -> str:
        """How the envelope's `actor` names this client."""
        return f"{self.agency}:{self.client_id}"

    def require(self, scope: str) -> None:
        if scope not in self.scopes:
            raise AuthorisationError(
                f"this operation needs scope {scope!r}; the token has "
                f"{', '.join(sorted(self.scopes)) or 'none'}"
            )


KeySet = dict[str, tuple[jwt.PyJWK, list[str]]]


def parse_key_set(jwks: dict[str, Any]) -> KeySet:
    """Each key of a JWKS by its `kid`, with the algorithms it may verify. Raises ValueError for a key
    set this service cannot use: an unsupported key or algorithm, a key without `kid`, no keys at all."""
    keys: KeySet = {}
    for entry in jwks.get("keys", []):
        if not isinstance(entry, dict) or not entry.get("kid"):
            raise ValueError("every key in the key set needs a kid")
        key = jwt.PyJWK(entry)
        allowed = ALLOWED_ALGORITHMS.get(str(entry.get("kty")))
        if allowed is None:
            raise ValueError(f"key {entry.get('kid')!r}: only RSA and EC keys are accepted")
        # A key that names its algorithm is used with that one only (the issuer's key set says
        # PS256, so an RS256 token under that key is refused too).
        if "alg" in entry:
            if entry["alg"] not in allowed:
                raise ValueError(f"key {entry.get('kid')!r}: algorithm {entry['alg']!r} is not accepted")
            allowed = [entry["alg"]]
        keys[entry["kid"]] = (key, allowed)
    if not keys:
        raise ValueError("the key set holds no keys")
    return keys


def read_jwks(path: Path) -> dict[str, Any]:
    try:
        jwks = json.loads(path.read_text())
    except FileNotFoundError:
        raise FileNotFoundError(
            f"no key set at {path}: run `asielketen token` (development) or set AUTH_JWKS_PATH"
        ) from None
    if not isinstance(jwks, dict):
        raise ValueError(f"{path} is not a JSON Web Key Set (an object with `keys`)")
    return jwks


class TokenVerifier:
    """Verifies access tokens against a key set. Built `from_file`, it re-reads the file while it runs,
    so the issuer can rotate keys without a restart: a token that arrives when the keys were last read
    `reload_interval_s` ago or longer makes it read them again first. So a token signed with a key the
    issuer just added (a `kid` it does not know yet) is accepted within one interval, and a key the issuer
    removed is refused within one interval of traffic; and however many tokens with made-up key ids a
    client sends, the file is read at most once per interval, never per request. A file that cannot be
    read or holds no usable key set (a write caught halfway) leaves the keys it has in place, with a
    warning in the log."""

    def __init__(
        self,
        jwks: dict[str, Any],
        *,
        issuer: str,
        audience: str,
        leeway_s: int = 30,
    ) -> None:
        self._keys = parse_key_set(jwks)
        self._issuer = issuer
        self._audience = audience
        self._leeway_s = leeway_s
        self._source: Path | None = None
        self._reload_interval_s = DEFAULT_KEY_SET_RELOAD_S
        self._clock: Callable[[], float] = time.monotonic
        self._last_read = 0.0

    @classmethod
    def from_file(
        cls,
        path: Path,
        *,
        issuer: str,
        audience: str,
        reload_interval_s: float = DEFAULT_KEY_SET_RELOAD_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> TokenVerifier:
        """A verifier on the key set in `path`, re-read at most once per `reload_interval_s` (`clock`
        is monotonic seconds; tests pass their own)."""
        verifier = cls(read_jwks(path), issuer=issuer, audience=audience)
        verifier._source = path
        verifier._reload_interval_s = reload_interval_s
        verifier._clock = clock
        verifier._last_read = clock()
        return verifier

    def _reload_if_due(self) -> None:
        if self._source is None:
            return
        now = self._clock()
        if now - self._last_read < self._reload_interval_s:
            return
        self._last_read = now  # also when the read fails: a broken file is not retried per request
        try:
            self._keys = parse_key_set(read_jwks(self._source))
        except (OSError, ValueError, jwt.PyJWTError) as error:
            log.warning("key set %s not reloaded, the keys read before stay: %s", self._source, error)

    def verify(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as error:
            raise AuthenticationError(f"malformed token: {error}") from error
        token_type = str(header.get("typ", "")).lower().removeprefix("application/")
        if token_type != ACCESS_TOKEN_TYPE:
            raise AuthenticationError(f"not an access token: the header's typ must be {ACCESS_TOKEN_TYPE!r}")
        self._reload_if_due()
        known = self._keys.get(str(header.get("kid")))
        if known is None:
            raise AuthenticationError("token signed with an unknown key")
        key, algorithms = known
        try:
            claims = jwt.decode(
                token,
                key.key,
                algorithms=algorithms,
                audience=self._audience,
                issuer=self._issuer,
                leeway=self._leeway_s,
                options={"require": REQUIRED_CLAIMS},
            )
        except jwt.PyJWTError as error:
            raise AuthenticationError(f"invalid token: {error}") from error
        agency = str(claims.get("agency", ""))
        if agency not in AGENCY_SCOPES:
            raise AuthenticationError("token names no known agency")
        scopes = frozenset(str(claims.get("scope", "")).split())
        return Principal(
            client_id=str(claims.get("azp") or claims["sub"]),
            agency=agency,
            scopes=scopes,
            municipality=claims.get("municipality"),
        )


# --- development keys and tokens ------------------------------------------------------------------

DEV_KEY_ID = "asielketen-dev-1"


def ensure_dev_keys(auth_dir: Path) -> tuple[Path, Path]:
    """Create the development RSA key pair (private PEM + public JWKS) if it does not exist yet."""
    auth_dir.mkdir(parents=True, exist_ok=True)
    private_path, jwks_path = auth_dir / "dev-private-key.pem", auth_dir / "jwks.json"
    if not private_path.exists():
        private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        private_path.write_bytes(pem)
        private_path.chmod(0o600)
        jwks_path.unlink(missing_ok=True)
    if not jwks_path.exists():
        loaded = serialization.load_pem_private_key(private_path.read_bytes(), password=None)
        if not isinstance(loaded, rsa.RSAPrivateKey):
            raise ValueError(f"{private_path} is not an RSA private key")
        public_jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(loaded.public_key()))
        public_jwk.update({"kid": DEV_KEY_ID, "use": "sig", "alg": "PS256"})
        jwks_path.write_text(json.dumps({"keys": [public_jwk]}, indent=2))
    return private_path, jwks_path


def mint_token(
    private_key_pem: bytes,
    *,
    agency: str,
    issuer: str,
    audience: str,
    client_id: str | None = None,
    municipality: str | None = None,
    scopes: tuple[str, ...] | None = None,
    lifetime_s: int = 8 * 3600,
    key_id: str = DEV_KEY_ID,
    now: int | None = None,
) -> str:
    """A signed access token for `agency` with that agency's scopes (or the given ones)."""
    if agency not in AGENCY_SCOPES:
        raise ValueError(f"unknown agency {agency!r}; known: {', '.join(AGENCY_SCOPES)}")
    issued = int(time.time()) if now is None else now
    client = client_id or f"{agency.lower()}-dev-client"
    claims: dict[str, Any] = {
        "iss": issuer,
        "aud": audience,
        "sub": client,
        "azp": client,
        "iat": issued,
        "nbf": issued,
        "exp": issued + lifetime_s,
        "jti": new_id(),
        "agency": agency,
        "scope": " ".join(scopes if scopes is not None else AGENCY_SCOPES[agency]),
    }
    if municipality:
        claims["municipality"] = municipality
    return jwt.encode(
        claims, private_key_pem, algorithm="PS256", headers={"kid": key_id, "typ": ACCESS_TOKEN_TYPE}
    )
