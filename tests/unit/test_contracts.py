"""Every event contract survives the trip through the registry and through Kafka's binary mode."""

from __future__ import annotations

import pytest

from shared.contracts import ALL_EVENTS, Event, chain_registry
from shared.contracts.procedure import AcceleratedGround, ReceptionStream, ReceptionStreamDetermined
from shared.envelope import CONTENT_TYPE, from_kafka, to_kafka
from tests.helpers import build_event, envelope_for

OVERRIDES: dict[type[Event], dict[str, object]] = {
    # the only combination in which every field of this contract carries a value
    ReceptionStreamDetermined: {
        "stream": ReceptionStream.ACCELERATED,
        "ground": AcceleratedGround.SAFE_COUNTRY_OF_ORIGIN,
    },
}

CONTEXT_HEADERS = {
    "ce_specversion",
    "ce_id",
    "ce_source",
    "ce_type",
    "ce_subject",
    "ce_time",
    "ce_dataschema",
    "ce_occurredat",
    "ce_actor",
    "ce_correlationid",
    "ce_causationid",
    "ce_streamid",
    "ce_streamversion",
    "ce_schemaversion",
    "ce_legalbasis",
    "ce_traceparent",
}

every_contract = pytest.mark.parametrize("model", ALL_EVENTS, ids=lambda model: model.type_name)


def full_instance(model: type[Event]) -> Event:
    return build_event(model, **OVERRIDES.get(model, {}))


@every_contract
def test_the_sample_fills_every_field(model: type[Event]) -> None:
    event = full_instance(model)

    empty = [name for name in type(event).model_fields if getattr(event, name) in (None, (), "")]
    assert empty == []


@every_contract
def test_the_registry_decodes_what_the_event_encodes(model: type[Event]) -> None:
    # given an event with every field populated
    event = full_instance(model)

    # when its payload is decoded by the chain's registry at its own schema version
    decoded = chain_registry().decode(model.type_name, model.schema_version, event.data())

    # then it is the same fact
    assert decoded == event
    assert type(decoded) is model


@every_contract
def test_the_envelope_survives_kafka_binary_mode(model: type[Event]) -> None:
    # given a complete envelope around an event with every field populated
    event = full_instance(model)
    envelope = envelope_for(event, stream_version=4)

    # when it is mapped onto a Kafka message and back
    message = to_kafka(envelope)
    restored = from_kafka(message.value, message.headers)

    # then nothing is lost, and the payload still decodes to the same fact
    assert restored == envelope
    assert chain_registry().decode(restored.type, restored.schemaversion, restored.data) == event


@every_contract
def test_the_kafka_message_carries_every_attribute_as_a_header(model: type[Event]) -> None:
    event = full_instance(model)
    envelope = envelope_for(event, stream_version=4)

    message = to_kafka(envelope)

    headers = dict(message.headers)
    assert set(headers) == CONTEXT_HEADERS | {"content-type"}
    assert headers["content-type"] == CONTENT_TYPE.encode() == b"application/json"
    assert headers["ce_specversion"] == b"1.0"
    assert headers["ce_id"] == envelope.id.encode()
    assert headers["ce_type"] == model.type_name.encode()
    assert headers["ce_subject"] == event.subject.encode()
    assert headers["ce_streamversion"] == b"4"
    assert headers["ce_schemaversion"] == str(model.schema_version).encode()
    assert headers["ce_dataschema"] == (
        f"urn:nld:asielketen:schema:{model.type_name}:{model.schema_version}".encode()
    )
    assert headers["ce_legalbasis"] == model.legal_basis.encode()
    assert message.key == event.subject.encode()


def test_optional_attributes_are_left_out_rather_than_sent_empty() -> None:
    envelope = envelope_for(full_instance(ALL_EVENTS[0]), causationid=None, traceparent=None)

    message = to_kafka(envelope)

    names = {name for name, _ in message.headers}
    assert "ce_causationid" not in names and "ce_traceparent" not in names
    assert from_kafka(message.value, message.headers) == envelope
