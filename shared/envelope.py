"""The CloudEvents 1.0 envelope around every event, and its binary-mode mapping onto Kafka.

Binary mode (the CloudEvents Kafka protocol binding): the event's data is the message value, as JSON;
each context attribute is a header `ce_<name>`; the content type is the `content-type` header.
Context attributes never hold personal data (intermediaries log them, says the NL GOV profile):
`subject` is a pseudonymous id.

Extensions (lowercase, as CloudEvents requires): `occurredat` (valid time), `actor` (agency and client),
`correlationid`, `causationid`, `streamid`, `streamversion`, `schemaversion`, `legalbasis`, `traceparent`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/json"
HEADER_PREFIX = "ce_"


class MalformedEnvelope(ValueError):
    """A Kafka message that is not a CloudEvent this chain understands (missing or bad attributes)."""


def dataschema_for(type_name: str, schema_version: int) -> str:
    return f"urn:nld:asielketen:schema:{type_name}:{schema_version}"


@dataclass(frozen=True, kw_only=True, slots=True)
class Envelope:
    id: str
    source: str
    type: str
    subject: str
    time: datetime  # recorded time: when the chain learned the fact
    occurredat: datetime  # valid time: when it happened in the world
    schemaversion: int
    actor: str
    correlationid: str
    causationid: str | None
    streamid: str
    streamversion: int
    legalbasis: str
    traceparent: str | None = None
    data: dict[str, Any] = field(default_factory=dict)

    specversion: ClassVar[str] = SPEC_VERSION

    @property
    def dataschema(self) -> str:
        return dataschema_for(self.type, self.schemaversion)


@dataclass(frozen=True, slots=True)
class KafkaMessage:
    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]]


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _parse_time(text: str, name: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as error:
        raise MalformedEnvelope(f"attribute {name!r} is not an RFC 3339 time: {text!r}") from error
    if moment.tzinfo is None:
        raise MalformedEnvelope(f"attribute {name!r} has no time zone")
    return moment.astimezone(UTC)


def to_kafka(envelope: Envelope) -> KafkaMessage:
    attributes: dict[str, str | None] = {
        "specversion": SPEC_VERSION,
        "id": envelope.id,
        "source": envelope.source,
        "type": envelope.type,
        "subject": envelope.subject,
        "time": _iso(envelope.time),
        "dataschema": envelope.dataschema,
        "occurredat": _iso(envelope.occurredat),
        "schemaversion": str(envelope.schemaversion),
        "actor": envelope.actor,
        "correlationid": envelope.correlationid,
        "causationid": envelope.causationid,
        "streamid": envelope.streamid,
        "streamversion": str(envelope.streamversion),
        "legalbasis": envelope.legalbasis,
        "traceparent": envelope.traceparent,
    }
    headers = [
        (HEADER_PREFIX + name, value.encode()) for name, value in attributes.items() if value is not None
    ]
    headers.append(("content-type", CONTENT_TYPE.encode()))
    value = json.dumps(envelope.data, separators=(",", ":"), ensure_ascii=False).encode()
    return KafkaMessage(key=envelope.subject.encode(), value=value, headers=headers)


_REQUIRED = (
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
)


def from_kafka(
    value: bytes | None, headers: list[tuple[str, bytes]] | tuple[tuple[str, bytes], ...]
) -> Envelope:
    """Rebuild an envelope from a binary-mode message; raise MalformedEnvelope with the reason."""
    attributes: dict[str, str] = {}
    content_type = None
    for name, raw in headers or ():
        try:
            text = raw.decode()
        except (UnicodeDecodeError, AttributeError) as error:
            raise MalformedEnvelope(f"header {name!r} is not UTF-8") from error
        if name == "content-type":
            content_type = text
        elif name.startswith(HEADER_PREFIX):
            attributes[name[len(HEADER_PREFIX) :]] = text
    if attributes.get("specversion") != SPEC_VERSION:
        raise MalformedEnvelope(f"specversion must be {SPEC_VERSION}, got {attributes.get('specversion')!r}")
    missing = [name for name in _REQUIRED if not attributes.get(name)]
    if missing:
        raise MalformedEnvelope(f"missing attributes: {', '.join(missing)}")
    if content_type is not None and not content_type.startswith(CONTENT_TYPE):
        raise MalformedEnvelope(f"content-type must be {CONTENT_TYPE}, got {content_type!r}")
    try:
        data = json.loads(value) if value else None
    except (ValueError, UnicodeDecodeError) as error:
        raise MalformedEnvelope(f"data is not JSON: {error}") from error
    if not isinstance(data, dict):
        raise MalformedEnvelope("data must be a JSON object")
    try:
        schema_version = int(attributes["schemaversion"])
        stream_version = int(attributes["streamversion"])
    except ValueError as error:
        raise MalformedEnvelope(f"schemaversion and streamversion must be integers: {error}") from error
    return Envelope(
        id=attributes["id"],
        source=attributes["source"],
        type=attributes["type"],
        subject=attributes["subject"],
        time=_parse_time(attributes["time"], "time"),
        occurredat=_parse_time(attributes["occurredat"], "occurredat"),
        schemaversion=schema_version,
        actor=attributes["actor"],
        correlationid=attributes["correlationid"],
        causationid=attributes.get("causationid"),
        streamid=attributes["streamid"],
        streamversion=stream_version,
        legalbasis=attributes["legalbasis"],
        traceparent=attributes.get("traceparent"),
        data=data,
    )
