"""Checks several rules share: the order of steps in time, and nothing changes a decided application."""

from __future__ import annotations

from datetime import datetime

from procedure.domain.application import Application
from shared.domain import RuleViolation


def undecided(state: Application, step: str) -> None:
    """Preparation ends with the decision: after it, only the appeal and its consequences follow."""
    if state.decision is not None:
        raise RuleViolation(
            f"application {state.application_id} is already decided ({state.decision.outcome.value}); "
            f"{step} comes before the decision",
            code="already-decided",
        )


def after_lodging(state: Application, at: datetime) -> None:
    if at < state.lodged_at:
        raise RuleViolation(
            f"{at.isoformat()} is before the application was lodged ({state.lodged_at.isoformat()})",
            code="before-lodging",
        )


def not_before(at: datetime, earlier: datetime, step: str) -> None:
    """Valid times keep the order of the steps: a step cannot be dated before the one it follows."""
    if at < earlier:
        raise RuleViolation(
            f"{at.isoformat()} is before {step} ({earlier.isoformat()})", code="earlier-than-previous-step"
        )
