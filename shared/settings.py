"""Typed settings, read from the environment when a service starts (in its lifespan, never at import).

Common variables: ASIELKETEN_ENV (development | test | production), ASIELKETEN_DATA_DIR,
KAFKA_BOOTSTRAP_SERVERS, AUTH_JWKS_PATH, AUTH_JWKS_RELOAD_S, AUTH_ISSUER, AUTH_AUDIENCE, LOG_LEVEL,
IDEMPOTENCY_TTL_S, MAX_REQUEST_BODY_BYTES, DATABASE_POOL_SIZE.
Per service: <SERVICE>_DATABASE_URL (e.g. PLACEMENT_DATABASE_URL); without it the service uses an
SQLite file `<data dir>/<service>.db`, so nothing needs configuring to run on one machine.

Settings fail closed: in production the development issuer and key set (`<data dir>/auth/jwks.json`,
where `asielketen token` keeps it beside its private key) are refused, and intake refuses the
development vault master key everywhere but in development (`IntakeSettings`).
"""

from __future__ import annotations

import base64
import binascii
import os
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_ISSUER = "urn:asielketen:dev-issuer"
# The identity vault's development master key: known to everyone who reads this file, like the development
# issuer, so it protects nothing. IntakeSettings accepts it only when ASIELKETEN_ENV=development.
DEV_VAULT_MASTER_KEY = base64.b64encode(b"asielketen-development-vault-key").decode()
DEFAULT_AUDIENCE = "asielketen"


def _env(name: str) -> AliasChoices:
    return AliasChoices(name)


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    service: str
    environment: Literal["development", "test", "production"] = Field(
        "development", validation_alias=_env("ASIELKETEN_ENV")
    )
    data_dir: Path = Field(Path("data"), validation_alias=_env("ASIELKETEN_DATA_DIR"))
    database_url: str = ""
    kafka_bootstrap_servers: str = Field("127.0.0.1:9092", validation_alias=_env("KAFKA_BOOTSTRAP_SERVERS"))
    kafka_create_topics: bool = Field(True, validation_alias=_env("KAFKA_CREATE_TOPICS"))
    kafka_partitions: int = Field(6, ge=1, validation_alias=_env("KAFKA_PARTITIONS"))
    kafka_replication_factor: int = Field(1, ge=1, validation_alias=_env("KAFKA_REPLICATION_FACTOR"))
    auth_jwks_path: Path | None = Field(None, validation_alias=_env("AUTH_JWKS_PATH"))
    # How often, at most, the key set file is re-read while the service runs (shared/auth.py): the time
    # within which a key the issuer adds is accepted, and one it removes refused, without a restart.
    auth_jwks_reload_s: float = Field(60.0, ge=1.0, validation_alias=_env("AUTH_JWKS_RELOAD_S"))
    auth_issuer: str = Field(DEV_ISSUER, validation_alias=_env("AUTH_ISSUER"))
    auth_audience: str = Field(DEFAULT_AUDIENCE, validation_alias=_env("AUTH_AUDIENCE"))
    event_source: str = ""
    log_level: str = Field("INFO", validation_alias=_env("LOG_LEVEL"))
    clock_offset_s: float = Field(0.0, validation_alias=_env("ASIELKETEN_CLOCK_OFFSET_S"))
    # Where the other services answer, `name=url,name=url`: the read side's dashboard reads their
    # /metrics for its system-health panel (never their data).
    service_urls: str = Field("", validation_alias=_env("ASIELKETEN_SERVICE_URLS"))
    # How long a command's Idempotency-Key is remembered: a client retries within minutes; a day also
    # covers a retry after an overnight outage (shared/idempotency.py).
    idempotency_ttl_s: int = Field(24 * 3600, ge=60, validation_alias=_env("IDEMPOTENCY_TTL_S"))
    # The largest request body accepted (413 beyond it): the biggest command is a household of a few
    # dozen members, far below this; the limit keeps a hostile client from filling memory.
    max_request_body_bytes: int = Field(64 * 1024, ge=1024, validation_alias=_env("MAX_REQUEST_BODY_BYTES"))
    # PostgreSQL connections per process: a pool of this many plus as many again in overflow. Lower it
    # where many processes share a server's max_connections (the chaos run on a shared machine).
    database_pool_size: int = Field(10, ge=1, le=100, validation_alias=_env("DATABASE_POOL_SIZE"))

    @model_validator(mode="after")
    def _defaults_and_fail_closed(self) -> ServiceSettings:
        if not self.database_url:
            self.database_url = f"sqlite+aiosqlite:///{self.data_dir / (self.service + '.db')}"
        if not self.event_source:
            self.event_source = f"urn:nld:asielketen:systeem:{self.service}"
        development_key_set = self.data_dir / "auth" / "jwks.json"
        if self.auth_jwks_path is None:
            self.auth_jwks_path = development_key_set
        if (
            self.environment == "production"
            and self.auth_jwks_path.resolve() == development_key_set.resolve()
        ):
            raise ValueError(
                f"AUTH_JWKS_PATH is the development key set ({development_key_set}, made by `asielketen "
                "token` beside its private key); point it at the real issuer's key set in production"
            )
        if self.environment == "production" and self.clock_offset_s:
            raise ValueError(
                "ASIELKETEN_CLOCK_OFFSET_S moves the clock; it is for rehearsals, not production"
            )
        if self.environment == "production" and self.auth_issuer == DEV_ISSUER:
            raise ValueError("AUTH_ISSUER is the development issuer; configure the real issuer in production")
        return self

    @property
    def peers(self) -> dict[str, str]:
        """ASIELKETEN_SERVICE_URLS as {service: base url}."""
        found: dict[str, str] = {}
        for entry in self.service_urls.split(","):
            name, _, url = entry.strip().partition("=")
            if name and url:
                found[name.strip()] = url.strip()
        return found

    @classmethod
    def load(cls, service: str) -> ServiceSettings:
        """Read the settings of `service` from the environment (its <SERVICE>_DATABASE_URL included)."""
        prefix = service.upper()
        return cls(
            service=service,
            database_url=os.environ.get(f"{prefix}_DATABASE_URL", ""),
            event_source=os.environ.get(f"{prefix}_EVENT_SOURCE", ""),
        )


class IntakeSettings(ServiceSettings):
    """Intake's settings: the common ones, plus the identity vault's master key and the retention
    period of each category of personal data the vault holds.

    VAULT_MASTER_KEY: 32 random bytes, base64 (`python -c "import os,base64;print(base64.b64encode(
    os.urandom(32)).decode())"`). It wraps every person's key; without it nothing in the vault can be
    read, so it comes from a secret store, never from the repository. Outside development it is required
    and the development key is refused.
    RETENTION_IDENTITY_DAYS: how long the V-number, names and date of birth are kept after the person's
    identification; then the person's key is deleted (crypto-shredding) and the data is unreadable
    everywhere. RETENTION_DOCUMENTS_DAYS: the same for document references (the vault record only).
    """

    # A refusal must not print the input: it would carry the master key into the start-up log.
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True, hide_input_in_errors=True)

    vault_master_key: SecretStr = Field(SecretStr(""), validation_alias=_env("VAULT_MASTER_KEY"))
    retention_identity_days: int = Field(
        10 * 365, ge=1, le=100 * 365, validation_alias=_env("RETENTION_IDENTITY_DAYS")
    )
    retention_documents_days: int = Field(
        5 * 365, ge=1, le=100 * 365, validation_alias=_env("RETENTION_DOCUMENTS_DAYS")
    )

    @model_validator(mode="after")
    def _vault_key_fails_closed(self) -> IntakeSettings:
        key = self.vault_master_key.get_secret_value()
        if not key:
            if self.environment != "development":
                raise ValueError(f"VAULT_MASTER_KEY is required when ASIELKETEN_ENV={self.environment}")
            self.vault_master_key = SecretStr(DEV_VAULT_MASTER_KEY)
        elif key == DEV_VAULT_MASTER_KEY and self.environment != "development":
            raise ValueError(
                "VAULT_MASTER_KEY is the development key; configure a real key outside development"
            )
        self.master_key()  # refuse a malformed key at start, not at the first identification
        return self

    def master_key(self) -> bytes:
        """The master key's 32 bytes."""
        try:
            raw = base64.b64decode(self.vault_master_key.get_secret_value(), validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("VAULT_MASTER_KEY is not base64") from None
        if len(raw) != 32:
            raise ValueError(f"VAULT_MASTER_KEY must be 32 bytes (AES-256), not {len(raw)}")
        return raw
