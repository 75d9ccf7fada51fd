"""Handlers for the identity vault's privacy duties: reading personal data (logged), erasing it (on
request, and when its retention period ends), and the erasure register that reports both.

Every read of personal data is logged in the style of the Logboek Dataverwerkingen: who read, which
person (by pseudonymous id), for which purpose, under which legal basis — never the data itself.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from intake.adapters import tables
from intake.adapters.crypto import SealBroken, VaultCipher
from intake.adapters.vault import NAME_FIELD, IdentityVault, seal_legacy_records
from intake.domain import household
from intake.domain.erasure import ErasePersonalData, erase
from intake.domain.household import Person
from intake.domain.identity import Identity, RetentionPeriods, retention_due
from shared.contracts.intake import LEGAL_BASIS_ERASURE, LEGAL_BASIS_REGISTRATION, DataCategory, ErasureGround
from shared.domain import DomainError, NotFound, RuleViolation, fold
from shared.eventstore import CommandContext, UnitOfWork
from shared.ids import new_id
from shared.scheduler import Deadline, cancel, schedule

log = logging.getLogger(__name__)

RETENTION = "retention"  # the deadline kind; key "<category>:<person id>"
RETENTION_ACTOR = "INTAKE:retention-job"


class PersonalDataGone(DomainError):
    """The person's personal data was erased: nothing sealed for them opens any more (HTTP 410)."""

    code = "personal-data-erased"


@dataclass(frozen=True, slots=True)
class Privacy:
    """What the vault handlers need from the settings: the master key's cipher and the retention periods."""

    cipher: VaultCipher
    retention: RetentionPeriods

    def vault(self, uow: UnitOfWork) -> IdentityVault:
        return IdentityVault(uow.session, self.cipher)


@dataclass(frozen=True, slots=True)
class Erasure:
    erasure_id: str
    person_id: str
    categories: tuple[DataCategory, ...]
    ground: ErasureGround
    legal_basis: str
    actor: str
    erased_at: datetime


async def schedule_retention(
    uow: UnitOfWork,
    person_id: str,
    collected_at: datetime,
    categories: list[DataCategory],
    periods: RetentionPeriods,
) -> None:
    due = retention_due(collected_at, periods)
    for category in categories:
        await schedule(
            uow.session,
            RETENTION,
            f"{category.value}:{person_id}",
            due[category],
            {"person_id": person_id, "category": category.value},
        )


async def _person(uow: UnitOfWork, person_id: str) -> tuple[household.Household, int, Person]:
    household_id = await tables.household_of(uow.session, person_id)
    if household_id is None:
        raise NotFound(f"no person {person_id}")
    recorded = await uow.events.read_stream(household.stream_id(household_id))
    state = fold(household.evolve, (r.event for r in recorded), None)
    if state is None:
        raise NotFound(f"no household {household_id}")
    return state, len(recorded), state.member(person_id)


async def erase_personal_data(
    uow: UnitOfWork,
    command: ErasePersonalData,
    legal_basis: str,
    context: CommandContext,
    privacy: Privacy,
) -> Erasure:
    """Decide, append PersonalDataErased, delete from the vault (the key, for `identity`), cancel the
    retention deadlines that have nothing left to erase, and enter it in the register: one transaction."""
    erasure = await _erase(uow, command, legal_basis, context, privacy)
    await uow.commit()
    return erasure


async def _erase(
    uow: UnitOfWork,
    command: ErasePersonalData,
    legal_basis: str,
    context: CommandContext,
    privacy: Privacy,
) -> Erasure:
    state, version, _ = await _person(uow, command.person_id)
    new_events = erase(state, command)
    await uow.events.append(household.stream_id(state.household_id), version, new_events, context)
    categories = tuple(new_events[0].categories)  # type: ignore[attr-defined]
    await privacy.vault(uow).erase(command.person_id, frozenset(categories))
    for category in categories:
        await cancel(uow.session, RETENTION, f"{category.value}:{command.person_id}")
    erasure = Erasure(
        erasure_id=new_id(),
        person_id=command.person_id,
        categories=categories,
        ground=command.ground,
        legal_basis=legal_basis,
        actor=context.actor,
        erased_at=command.occurred_at,
    )
    await tables.record_erasure(
        uow.session,
        {
            "erasure_id": erasure.erasure_id,
            "person_id": erasure.person_id,
            "categories": ",".join(c.value for c in categories),
            "ground": erasure.ground.value,
            "legal_basis": legal_basis,
            "actor": erasure.actor,
            "erased_at": erasure.erased_at,
        },
    )
    log.info(
        "erased %s of person %s for %s (ground: %s)",
        "+".join(c.value for c in categories),
        command.person_id,
        context.actor,
        command.ground.value,
    )
    return erasure


def retention_handler(privacy: Privacy) -> Any:
    """The deadline handler that erases a category whose retention period has ended, at the deadline's
    own time. A category erased before (by request, or with the identity) has nothing left: no-op."""

    async def expire(uow: UnitOfWork, deadline: Deadline) -> None:
        person_id, category = deadline.payload["person_id"], DataCategory(deadline.payload["category"])
        command = ErasePersonalData(
            person_id=person_id,
            categories=frozenset({category}),
            ground=ErasureGround.RETENTION_EXPIRED,
            occurred_at=deadline.due_at,
        )
        context = CommandContext(actor=RETENTION_ACTOR, correlation_id=new_id())
        basis = f"{LEGAL_BASIS_ERASURE}; bewaartermijn {category.value} verstreken"
        try:
            # Not committed here: the scheduler marks the deadline fired and commits both together.
            await _erase(uow, command, basis, context, privacy)
        except RuleViolation as refused:
            if refused.code != "already-erased":
                raise
            log.info("retention of %s for person %s: already erased", category.value, person_id)

    return expire


async def read_identity(
    uow: UnitOfWork, person_id: str, actor: str, purpose: str, privacy: Privacy
) -> Identity:
    """A person's vault record, for an authorised reader; the read is logged (not the data)."""
    _, _, person = await _person(uow, person_id)
    if DataCategory.IDENTITY in person.erased:
        raise PersonalDataGone(f"the personal data of person {person_id} was erased")
    identity = await privacy.vault(uow).open(person_id)
    if identity is None:
        raise NotFound(f"person {person_id} has no identity in the vault (not identified)")
    log.info(
        "identity of person %s read by %s (purpose: %s; basis: %s)",
        person_id,
        actor,
        purpose,
        LEGAL_BASIS_REGISTRATION,
    )
    return identity


async def open_sealed_field(
    uow: UnitOfWork, person_id: str, field: str, sealed: str, actor: str, purpose: str, privacy: Privacy
) -> str:
    """The value of a field sealed for `person_id` (only the name travels sealed today); logged."""
    if field != NAME_FIELD:
        raise NotFound(f"no sealed field {field!r}")
    _, _, person = await _person(uow, person_id)
    if DataCategory.IDENTITY in person.erased:
        raise PersonalDataGone(f"the personal data of person {person_id} was erased")
    try:
        value = await privacy.vault(uow).open_field(person_id, field, sealed)
    except SealBroken as broken:
        raise RuleViolation(str(broken), code="sealed-value-invalid") from None
    if value is None:
        raise NotFound(f"person {person_id} has no key in the vault (not identified)")
    log.info(
        "sealed %s of person %s opened by %s (purpose: %s; basis: %s)",
        field,
        person_id,
        actor,
        purpose,
        LEGAL_BASIS_REGISTRATION,
    )
    return value


async def erasure_register(uow: UnitOfWork, since: datetime | None, limit: int) -> list[Erasure]:
    return [
        Erasure(
            erasure_id=row["erasure_id"],
            person_id=row["person_id"],
            categories=tuple(DataCategory(c) for c in row["categories"].split(",")),
            ground=ErasureGround(row["ground"]),
            legal_basis=row["legal_basis"],
            actor=row["actor"],
            erased_at=row["erased_at"],
        )
        for row in await tables.erasures_since(uow.session, since, limit)
    ]


async def seal_legacy_vault(uow: UnitOfWork, privacy: Privacy) -> int:
    """Seal what revision 0002 kept in the clear, and schedule its retention from when it was recorded."""
    moved = await seal_legacy_records(uow.session, privacy.cipher)
    for person_id, recorded_at in moved:
        await schedule_retention(uow, person_id, recorded_at, [DataCategory.IDENTITY], privacy.retention)
    await uow.commit()
    if moved:
        log.info(
            "sealed %d V-numbers of the unencrypted vault (revision 0002) into the encrypted vault",
            len(moved),
        )
    return len(moved)
