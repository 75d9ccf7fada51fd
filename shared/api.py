"""Base model for request and response bodies: camelCase on the wire (Dutch API Design Rules),
snake_case in Python, unknown fields refused so a typo is an error and not silently ignored, and every
string bounded: a field that names no length of its own gets STR_MAX_LENGTH, so no string a client sends
is unbounded (the request body limit, MAX_REQUEST_BODY_BYTES, bounds the whole), and no string holds the
NUL character (U+0000): PostgreSQL can store it neither in text nor in jsonb, so it would fail a command
deep in the event store (a 500), and no name, reason or id has a use for it. Nor is `true` taken for 1:
pydantic's lax mode would read a boolean as a number (a location of `"capacity": true` places)."""

from __future__ import annotations

import types
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator
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

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul_character(cls, value: Any) -> Any:
        refuse_nul(value)
        return value

    @field_validator("*", mode="before")
    @classmethod
    def _no_boolean_for_a_number(cls, value: Any, info: ValidationInfo) -> Any:
        if (
            isinstance(value, bool)
            and info.field_name is not None
            and takes_a_number_not_a_boolean(cls.model_fields[info.field_name].annotation)
        ):
            raise ValueError("must be a number, not true or false")
        return value


def takes_a_number_not_a_boolean(annotation: Any) -> bool:
    """Whether a field typed `annotation` takes numbers (int or float, maybe optional) but no booleans."""
    if get_origin(annotation) in (Union, types.UnionType):
        options = set(get_args(annotation))
        return bool(options & {int, float}) and bool not in options
    return annotation in (int, float)


def refuse_nul(value: Any) -> None:
    """Raise ValueError (a 400 naming the field) if `value` or anything in it is a string with U+0000."""
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError("must not contain the NUL character (U+0000)")
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            refuse_nul(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            refuse_nul(key)
            refuse_nul(item)
