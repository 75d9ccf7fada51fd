"""Base model for request and response bodies: camelCase on the wire (Dutch API Design Rules),
snake_case in Python, unknown fields refused so a typo is an error and not silently ignored, and every
string bounded: a field that names no length of its own gets STR_MAX_LENGTH, so no string a client sends
is unbounded (the request body limit, MAX_REQUEST_BODY_BYTES, bounds the whole)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

# Generous on purpose: the same base serves the responses, which must never fail on a long value; the
# fields that matter carry tighter bounds of their own.
STR_MAX_LENGTH = 4096


class ApiModel(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        frozen=True,
        str_max_length=STR_MAX_LENGTH,
    )
