"""Typed settings, read from the environment when a service starts (in its lifespan, never at import).

Common variables: ASIELKETEN_ENV (development | test | production), ASIELKETEN_DATA_DIR,
KAFKA_BOOTSTRAP_SERVERS, AUTH_JWKS_PATH, AUTH_ISSUER, AUTH_AUDIENCE, LOG_LEVEL.
Per service: <SERVICE>_DATABASE_URL (e.g. PLACEMENT_DATABASE_URL); without it the service uses an
SQLite file `<data dir>/<service>.db`, so nothing needs configuring to run on one machine.

Settings fail closed: in production the development issuer and key are refused.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_ISSUER = "urn:asielketen:dev-issuer"
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
    auth_issuer: str = Field(DEV_ISSUER, validation_alias=_env("AUTH_ISSUER"))
    auth_audience: str = Field(DEFAULT_AUDIENCE, validation_alias=_env("AUTH_AUDIENCE"))
    event_source: str = ""
    log_level: str = Field("INFO", validation_alias=_env("LOG_LEVEL"))
    clock_offset_s: float = Field(0.0, validation_alias=_env("ASIELKETEN_CLOCK_OFFSET_S"))
    # Where the other services answer, `name=url,name=url`: the read side's dashboard reads their
    # /metrics for its system-health panel (never their data).
    service_urls: str = Field("", validation_alias=_env("ASIELKETEN_SERVICE_URLS"))

    @model_validator(mode="after")
    def _defaults_and_fail_closed(self) -> ServiceSettings:
        if not self.database_url:
            self.database_url = f"sqlite+aiosqlite:///{self.data_dir / (self.service + '.db')}"
        if not self.event_source:
            self.event_source = f"urn:nld:asielketen:systeem:{self.service}"
        if self.auth_jwks_path is None:
            self.auth_jwks_path = self.data_dir / "auth" / "jwks.json"
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
