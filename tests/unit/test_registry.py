"""The registry turns (type, schema version, payload) into the current contract, upcasting old payloads."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import ClassVar

import pytest

from shared.contracts import (
    EventRegistry,
    UndecodablePayload,
    UnknownEventType,
    UnsupportedSchemaVersion,
    chain_registry,
)
from shared.contracts.base import Event
from shared.contracts.placement import LocationPlacesTaken
from tests.helpers import places_taken


class Rename(Event):
    """A test-only contract at version 2: v1 called the household `family` and had no `places`."""

    type_name: ClassVar[str] = "nl.asielketen.test.rename"
    schema_version: ClassVar[int] = 2
    subject_field: ClassVar[str] = "household_id"
    legal_basis: ClassVar[str] = "test"

    household_id: str
    places: int


def v1_to_v2(payload: dict[str, object]) -> dict[str, object]:
    upcast = {key: value for key, value in payload.items() if key != "family"}
    return upcast | {"household_id": payload["family"], "places": 1}


def test_an_old_payload_is_upcast_to_the_current_contract() -> None:
    # given a registry that knows v2 of a contract and the step from v1 to v2
    registry = EventRegistry([Rename])
    registry.register_upcaster(Rename.type_name, 1, v1_to_v2)

    # when a payload written at v1 is decoded
    decoded = registry.decode(Rename.type_name, 1, {"occurred_at": "2024-02-01T10:00:00Z", "family": "h-1"})

    # then the consumer gets the v2 model
    assert decoded == Rename(occurred_at=datetime(2024, 2, 1, 10, tzinfo=UTC), household_id="h-1", places=1)


def test_a_current_payload_is_not_upcast() -> None:
    registry = EventRegistry([Rename])
    registry.register_upcaster(Rename.type_name, 1, v1_to_v2)

    decoded = registry.decode(
        Rename.type_name, 2, {"occurred_at": "2024-02-01T10:00:00Z", "household_id": "h-2", "places": 4}
    )

    assert decoded == Rename(occurred_at=datetime(2024, 2, 1, 10, tzinfo=UTC), household_id="h-2", places=4)


def test_an_old_payload_without_an_upcaster_is_unsupported() -> None:
    registry = EventRegistry([Rename])

    with pytest.raises(UnsupportedSchemaVersion):
        registry.decode(Rename.type_name, 1, {"occurred_at": "2024-02-01T10:00:00Z", "family": "h-1"})


def test_an_unknown_type_is_refused() -> None:
    with pytest.raises(UnknownEventType):
        chain_registry().decode("nl.asielketen.test.never-registered", 1, {})


@pytest.mark.parametrize("version", [LocationPlacesTaken.schema_version + 1, 0])
def test_a_schema_version_the_registry_does_not_know_is_refused(version: int) -> None:
    payload = places_taken("location-1").data()

    with pytest.raises(UnsupportedSchemaVersion):
        chain_registry().decode(LocationPlacesTaken.type_name, version, payload)


@pytest.mark.parametrize(
    "change",
    [
        {"places": 0},  # below the minimum
        {"places": "many"},  # wrong type
        {"occurred_at": "2024-02-01T10:00:00"},  # no time zone
        {"unexpected": "field"},  # contracts forbid extra fields
    ],
    ids=["constraint", "type", "naive-time", "extra-field"],
)
def test_an_invalid_payload_is_undecodable(change: dict[str, object]) -> None:
    payload = places_taken("location-1").data() | change

    with pytest.raises(UndecodablePayload):
        chain_registry().decode(LocationPlacesTaken.type_name, 1, payload)


def test_a_payload_missing_a_field_is_undecodable() -> None:
    payload = places_taken("location-1").data()
    del payload["household_id"]

    with pytest.raises(UndecodablePayload):
        chain_registry().decode(LocationPlacesTaken.type_name, 1, payload)


def test_one_type_name_cannot_name_two_contracts() -> None:
    class Impostor(Event):
        type_name: ClassVar[str] = LocationPlacesTaken.type_name
        subject_field: ClassVar[str] = "x"
        legal_basis: ClassVar[str] = "test"

    with pytest.raises(ValueError, match="registered twice"):
        EventRegistry([LocationPlacesTaken, Impostor])
