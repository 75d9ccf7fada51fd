"""Every route of every service refuses a request without a good token, except the few that are public
on purpose. The routes are read from the apps themselves, so a route added tomorrow is checked
tomorrow without anyone remembering to add it here.

The apps are built with `create_app(settings)` as in production; the lifespan is not run (no database,
no Kafka), only the token key set is loaded: a route must refuse before it touches anything else.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from shared.auth import DEV_KEY_ID, mint_token
from shared.ids import new_id
from shared.settings import DEFAULT_AUDIENCE, DEV_ISSUER
from tests.fixtures import MintToken
from tests.helpers import SERVICES, routes_of, unstarted_app

PROBLEM_JSON = "application/problem+json"

# The intended exceptions, and why: probes and metrics are read by the platform (no personal data);
# the API description and its viewer describe, they do not serve data; the dashboard's page and assets
# are static files, and every number the page shows comes from token-protected API routes.
PUBLIC = {
    "all": {
        ("GET", "/health"),
        ("GET", "/ready"),
        ("GET", "/metrics"),
        ("GET", "/openapi.json"),
        ("GET", "/docs"),
        ("GET", "/docs/oauth2-redirect"),
        ("GET", "/redoc"),
    },
    "history": {("GET", "/dashboard"), ("GET", "/dashboard/assets/{name}")},
}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hs256(claims: dict[str, Any], secret: bytes) -> str:
    header = {"alg": "HS256", "typ": "JWT", "kid": DEV_KEY_ID}
    signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}"
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(signature)}"


def bad_tokens(private_key: bytes, token_for: MintToken) -> dict[str, str | None]:
    loaded = serialization.load_pem_private_key(private_key, password=None)
    public_pem = loaded.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": DEV_ISSUER,
        "aud": DEFAULT_AUDIENCE,
        "sub": "x",
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        "jti": new_id(),
        "agency": "AUDIT",
        "scope": "history:read",
    }
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    none_header = {"alg": "none", "typ": "JWT", "kid": DEV_KEY_ID}
    return {
        "missing": None,
        "expired": token_for("AUDIT", now=now - 7200, lifetime_s=600),
        "wrong issuer": token_for("AUDIT", issuer="urn:someone-else"),
        "wrong audience": token_for("AUDIT", audience="another-api"),
        "alg=none": f"{b64url(json.dumps(none_header).encode())}.{b64url(json.dumps(claims).encode())}.",
        # the same key id, but signed with a key the service never configured
        "wrongly signed": mint_token(other_key, agency="AUDIT", issuer=DEV_ISSUER, audience=DEFAULT_AUDIENCE),
        # the classic HS/RS confusion: an HMAC over the token keyed with the service's public key
        "HS256 keyed with the public key": hs256(claims, public_pem),
        # rightly signed, but not an access token (RFC 9068): an ID token, or a JWT that says nothing
        "wrong typ": jwt.encode(
            claims, private_key, algorithm="PS256", headers={"kid": DEV_KEY_ID, "typ": "JWT"}
        ),
        "no typ": jwt.encode(
            claims, private_key, algorithm="PS256", headers={"kid": DEV_KEY_ID, "typ": None}
        ),
    }


def concrete(path: str) -> str:
    """A path with made-up values for its parameters: the token is refused before they matter."""
    return re.sub(r"\{[^}]+\}", "00000000-0000-4000-8000-000000000000", path)


@pytest.mark.parametrize("service", SERVICES)
async def test_every_protected_route_refuses_every_bad_token(
    service: str, tmp_path_factory: pytest.TempPathFactory, auth_dir: Path, token_for: MintToken
) -> None:
    app = unstarted_app(service, tmp_path_factory.mktemp(service), auth_dir)
    public = PUBLIC["all"] | PUBLIC.get(service, set())
    routes = routes_of(app.routes)
    assert public - set(routes) == set(), "a listed public route does not exist: keep the list honest"
    protected = [route for route in routes if route not in public]
    assert protected, "no protected routes found: the enumeration is broken"
    tokens = bad_tokens((auth_dir / "dev-private-key.pem").read_bytes(), token_for)

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    failures = []
    async with httpx.AsyncClient(transport=transport, base_url=f"http://{service}.test") as client:
        for method, path in protected:
            for kind, token in tokens.items():
                headers = {"Authorization": f"Bearer {token}"} if token else {}
                response = await client.request(method, concrete(path), headers=headers, json={})
                refused = (
                    response.status_code == 401
                    and response.headers.get("content-type") == PROBLEM_JSON
                    and response.headers.get("WWW-Authenticate", "").startswith("Bearer")
                )
                if not refused:
                    failures.append(f"{method} {path} with {kind} token: {response.status_code}")
    assert failures == []


@pytest.mark.parametrize("service", SERVICES)
async def test_a_public_route_needs_no_token(
    service: str, tmp_path_factory: pytest.TempPathFactory, auth_dir: Path
) -> None:
    # the counter-check: the exceptions really are open, so the test above tells the two kinds apart
    app = unstarted_app(service, tmp_path_factory.mktemp(service), auth_dir)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url=f"http://{service}.test") as client:
        for path in ("/health", "/openapi.json"):
            response = await client.get(path)
            assert response.status_code == 200, (path, response.text)
