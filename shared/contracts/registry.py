"""The registry of event contracts: type name + schema version → model, with upcasters.

An upcaster turns the payload of version N into version N+1. Old events stay as they were written in
the store and on Kafka; they are upcast when read, so a consumer only ever handles the current model.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from pydantic import ValidationError

from shared.contracts.base import Event

Payload = dict[str, Any]
Upcaster = Callable[[Payload], Payload]


class UnknownEventType(LookupError):
    """The type name is not a contract this registry knows."""


class UnsupportedSchemaVersion(LookupError):
    """The schema version is newer than the registered model, or has no upcaster chain."""


class UndecodablePayload(ValueError):
    """The payload does not validate against its contract (after upcasting)."""


class EventRegistry:
    def __init__(self, models: Iterable[type[Event]] = ()) -> None:
        self._models: dict[str, type[Event]] = {}
        self._upcasters: dict[tuple[str, int], Upcaster] = {}
        for model in models:
            self.register(model)

    def register(self, model: type[Event]) -> type[Event]:
        existing = self._models.get(model.type_name)
        if existing is not None and existing is not model:
            raise ValueError(f"event type {model.type_name!r} registered twice")
        self._models[model.type_name] = model
        return model

    def register_upcaster(self, type_name: str, from_version: int, upcaster: Upcaster) -> None:
        """Register the step from `from_version` to `from_version + 1` of one event type."""
        self._upcasters[(type_name, from_version)] = upcaster

    def model_for(self, type_name: str) -> type[Event]:
        try:
            return self._models[type_name]
        except KeyError:
            raise UnknownEventType(type_name) from None

    def knows(self, type_name: str) -> bool:
        return type_name in self._models

    @property
    def models(self) -> list[type[Event]]:
        return list(self._models.values())

    def decode(self, type_name: str, schema_version: int, payload: Payload) -> Event:
        """Upcast `payload` from `schema_version` to the current version and validate it."""
        model = self.model_for(type_name)
        if schema_version > model.schema_version or schema_version < 1:
            raise UnsupportedSchemaVersion(
                f"{type_name} v{schema_version} (this service knows up to v{model.schema_version})"
            )
        version = schema_version
        while version < model.schema_version:
            step = self._upcasters.get((type_name, version))
            if step is None:
                raise UnsupportedSchemaVersion(f"no upcaster for {type_name} v{version} → v{version + 1}")
            payload = step(payload)
            version += 1
        try:
            return model.model_validate(payload)
        except ValidationError as error:
            raise UndecodablePayload(f"{type_name} v{schema_version}: {error}") from error
