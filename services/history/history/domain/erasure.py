"""What the read side keeps of a fact about a person whose personal data was erased: everything but the
fields the fact's contract marks as personal (`Event.personal_fields`: a sealed value, a reference into
intake's vault). Those are unreadable after the erasure anyway; dropping them leaves no trace to link."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def without_personal_fields(data: dict[str, Any], personal_fields: Iterable[str]) -> dict[str, Any]:
    dropped = set(personal_fields)
    return {name: value for name, value in data.items() if name not in dropped}
