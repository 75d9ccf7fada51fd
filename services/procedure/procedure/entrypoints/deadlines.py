"""Deadlines procedure schedules, and what happens when one passes (fired by the runtime's scheduler)."""

from __future__ import annotations

from collections.abc import Mapping

from procedure.domain.decision import DECISION_FINAL
from procedure.service_layer import handlers
from shared.runtime import Runtime
from shared.scheduler import DeadlineHandler


def deadlines(_runtime: Runtime) -> Mapping[str, DeadlineHandler]:
    return {DECISION_FINAL: handlers.decision_final_due}
