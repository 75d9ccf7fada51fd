"""from_kafka refuses every message that is not a CloudEvent this chain understands."""

from __future__ import annotations

import pytest

from shared.envelope import MalformedEnvelope, from_kafka, to_kafka
from tests.helpers import envelope_for, places_taken

REQUIRED = [
    "id",
    "source",
    "type",
    "subject",
    "time",
    "occurredat",
    "schemaversion",
    "actor",
    "correlationid",
    "streamid",
    "streamversion",
    "legalbasis",
]


def valid_message() -> tuple[bytes, list[tuple[str, bytes]]]:
    message = to_kafka(envelope_for(places_taken("location-1")))
    return message.value, list(message.headers)


def without(headers: list[tuple[str, bytes]], name: str) -> list[tuple[str, bytes]]:
    return [(key, value) for key, value in headers if key != name]


def replaced(headers: list[tuple[str, bytes]], name: str, value: bytes) -> list[tuple[str, bytes]]:
    return [*without(headers, name), (name, value)]


def test_the_valid_message_is_accepted() -> None:
    value, headers = valid_message()

    assert from_kafka(value, headers).type == "nl.asielketen.placement.location-places-taken"


def test_a_message_without_specversion_is_refused() -> None:
    value, headers = valid_message()

    with pytest.raises(MalformedEnvelope, match="specversion"):
        from_kafka(value, without(headers, "ce_specversion"))


def test_a_message_of_another_specversion_is_refused() -> None:
    value, headers = valid_message()

    with pytest.raises(MalformedEnvelope, match="specversion"):
        from_kafka(value, replaced(headers, "ce_specversion", b"0.3"))


def test_a_message_without_any_cloudevents_header_is_refused() -> None:
    value, _ = valid_message()

    with pytest.raises(MalformedEnvelope):
        from_kafka(value, [("content-type", b"application/json")])


@pytest.mark.parametrize("attribute", REQUIRED)
def test_a_message_missing_a_required_attribute_is_refused(attribute: str) -> None:
    value, headers = valid_message()

    with pytest.raises(MalformedEnvelope, match=attribute):
        from_kafka(value, without(headers, f"ce_{attribute}"))


@pytest.mark.parametrize("attribute", REQUIRED)
def test_an_empty_required_attribute_is_refused(attribute: str) -> None:
    value, headers = valid_message()

    with pytest.raises(MalformedEnvelope, match=attribute):
        from_kafka(value, replaced(headers, f"ce_{attribute}", b""))


@pytest.mark.parametrize(
    "body", [b"{not json", b"\xff\xfe", b"", None], ids=["broken", "not-utf8", "empty", "tombstone"]
)
def test_data_that_is_not_json_is_refused(body: bytes | None) -> None:
    _, headers = valid_message()

    with pytest.raises(MalformedEnvelope):
        from_kafka(body, headers)


@pytest.mark.parametrize("body", [b"[1, 2]", b'"text"', b"42", b"null"])
def test_a_body_that_is_not_a_json_object_is_refused(body: bytes) -> None:
    _, headers = valid_message()

    with pytest.raises(MalformedEnvelope, match="object"):
        from_kafka(body, headers)


@pytest.mark.parametrize(
    ("attribute", "bad"),
    [
        ("time", b"yesterday"),
        ("occurredat", b"2024-02-01T10:00:00"),  # no time zone
        ("schemaversion", b"two"),
        ("streamversion", b"1.5"),
    ],
)
def test_an_attribute_of_the_wrong_form_is_refused(attribute: str, bad: bytes) -> None:
    value, headers = valid_message()

    with pytest.raises(MalformedEnvelope, match=attribute):
        from_kafka(value, replaced(headers, f"ce_{attribute}", bad))


def test_another_content_type_is_refused() -> None:
    value, headers = valid_message()

    with pytest.raises(MalformedEnvelope, match="content-type"):
        from_kafka(value, replaced(headers, "content-type", b"application/avro"))


def test_a_header_that_is_not_utf8_is_refused() -> None:
    value, headers = valid_message()

    with pytest.raises(MalformedEnvelope, match="UTF-8"):
        from_kafka(value, replaced(headers, "ce_actor", b"\xff"))
