"""Command handlers of intake. Each runs in one unit of work: load the household, look up what the
decision needs from intake's own tables, decide, append, write the tables, commit.

Person-level commands find the household through the `persons` lookup and append to the household's
stream with the version they loaded (a concurrent command on the same household is a 409, never a
lost write). A client's `If-Match` is compared with the version of what it read: the household for
household commands, the person for person commands.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from intake.adapters import tables
from intake.domain import household, identification, registration
from intake.domain.correction import CorrectRegistration, correct
from intake.domain.household import Household, Person
from intake.domain.identification import IdentifyPerson, PreRegister
from intake.domain.identity import Identity
from intake.domain.registration import RegisterHousehold
from intake.service_layer.privacy import Privacy
from intake.service_layer.privacy import schedule_retention as _schedule_retention
from shared.contracts.base import Event
from shared.contracts.intake import LEGAL_BASIS_REGISTRATION, DataCategory
from shared.domain import NotFound, PreconditionFailed, fold
from shared.eventstore import CommandContext, UnitOfWork

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Loaded:
    state: Household | None
    version: int


@dataclass(frozen=True, slots=True)
class LoadedPerson:
    household: Household
    household_version: int
    person: Person


async def load_household(uow: UnitOfWork, household_id: str) -> Loaded:
    recorded = await uow.events.read_stream(household.stream_id(household_id))
    state = fold(household.evolve, (r.event for r in recorded), None)
    return Loaded(state, len(recorded))


async def get_household(uow: UnitOfWork, household_id: str) -> Loaded:
    loaded = await load_household(uow, household_id)
    if loaded.state is None:
        raise NotFound(f"no household {household_id}")
    return loaded


async def get_person(uow: UnitOfWork, person_id: str) -> LoadedPerson:
    household_id = await tables.household_of(uow.session, person_id)
    if household_id is None:
        raise NotFound(f"no person {person_id}")
    loaded = await get_household(uow, household_id)
    assert loaded.state is not None
    return LoadedPerson(loaded.state, loaded.version, loaded.state.member(person_id))


async def register_household(uow: UnitOfWork, command: RegisterHousehold, context: CommandContext) -> Loaded:
    loaded = await load_household(uow, command.household_id)
    known = await tables.registered(uow.session, command.family_elsewhere)
    new_events = registration.register(loaded.state, command, known_persons=known)
    await uow.events.append(household.stream_id(command.household_id), loaded.version, new_events, context)
    await tables.add_persons(uow.session, command.household_id, (m.person_id for m in command.members))
    await uow.commit()
    return Loaded(fold(household.evolve, new_events, loaded.state), loaded.version + len(new_events))


async def pre_register(
    uow: UnitOfWork, command: PreRegister, context: CommandContext, *, if_match: int | None = None
) -> Loaded:
    loaded = await get_household(uow, command.household_id)
    assert loaded.state is not None
    if if_match is not None and if_match != loaded.version:
        raise PreconditionFailed(
            f"If-Match names version {if_match}; household {command.household_id} "
            f"is at version {loaded.version}"
        )
    new_events = identification.pre_register(loaded.state, command)
    await uow.events.append(household.stream_id(command.household_id), loaded.version, new_events, context)
    await uow.commit()
    return Loaded(fold(household.evolve, new_events, loaded.state), loaded.version + len(new_events))


async def _act_on_person(
    uow: UnitOfWork,
    person_id: str,
    decide: Callable[[Household], list[Event]],
    context: CommandContext,
    *,
    if_match: int | None,
) -> LoadedPerson:
    """Load the person's household, check `If-Match` against the person, decide, append (not committed)."""
    loaded = await get_person(uow, person_id)
    if if_match is not None and if_match != loaded.person.version:
        raise PreconditionFailed(
            f"If-Match names version {if_match}; person {person_id} is at version {loaded.person.version}"
        )
    new_events = decide(loaded.household)
    stream = household.stream_id(loaded.household.household_id)
    await uow.events.append(stream, loaded.household_version, new_events, context)
    state = fold(household.evolve, new_events, loaded.household)
    assert state is not None
    return LoadedPerson(state, loaded.household_version + len(new_events), state.member(person_id))


async def identify_person(
    uow: UnitOfWork,
    command: IdentifyPerson,
    identity: Identity,
    context: CommandContext,
    privacy: Privacy,
    *,
    recorded_at: datetime,
    if_match: int | None = None,
) -> LoadedPerson:
    """The identity is sealed into the vault in the same transaction as the event that refers to it, and
    its retention deadlines are scheduled there too; the domain only learns whether someone holds the
    V-number already, and gets the name already sealed."""
    vault = privacy.vault(uow)
    holder = await vault.holder_of(identity.v_number)
    sealed = vault.seal(command.person_id, identity)
    result = await _act_on_person(
        uow,
        command.person_id,
        lambda state: identification.identify(
            state, replace(command, sealed_name=sealed.sealed_name), v_number_holder=holder
        ),
        context,
        if_match=if_match,
    )
    await vault.deposit(sealed, command.v_number_ref, recorded_at)
    categories = [DataCategory.IDENTITY] + ([DataCategory.DOCUMENTS] if identity.documents else [])
    await _schedule_retention(uow, command.person_id, recorded_at, categories, privacy.retention)
    await uow.commit()
    return result


async def correct_registration(
    uow: UnitOfWork, command: CorrectRegistration, context: CommandContext, *, if_match: int | None = None
) -> LoadedPerson:
    result = await _act_on_person(
        uow, command.person_id, lambda state: correct(state, command), context, if_match=if_match
    )
    await uow.commit()
    return result


async def find_person(uow: UnitOfWork, v_number: str, actor: str, privacy: Privacy) -> tuple[str, str]:
    """(person id, household id) of the V-number's holder. Resolving a statutory identifier is a read
    of personal data, so it is logged: who, which person, under which basis (never the V-number)."""
    found = await privacy.vault(uow).resolve(v_number)
    if found is None:
        raise NotFound("no person holds this V-number")
    log.info("person %s resolved by V-number for %s (basis: %s)", found[0], actor, LEGAL_BASIS_REGISTRATION)
    return found
