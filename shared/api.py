"""Base model for request and response bodies: camelCase on the wire (Dutch API Design Rules),
snake_case in Python, unknown fields refused so a typo is an error and not silently ignored."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class ApiModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True)
