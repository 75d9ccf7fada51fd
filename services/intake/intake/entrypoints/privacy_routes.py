"""HTTP routes of intake's privacy duties: read a person's vault record, open a sealed field, erase a
person's personal data, and the erasure register. Personal identifiers are only ever in bodies; every
read and erasure is logged with the caller, the person's pseudonymous id and the purpose or ground.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from intake.adapters.crypto import VaultCipher
from intake.domain.erasure import ErasePersonalData
from intake.domain.identity import RetentionPeriods
from intake.entrypoints.privacy_schemas import (
    ErasureIn,
    ErasureOut,
    ErasureRegisterOut,
    IdentityOut,
    IdentityReadIn,
    SealedFieldIn,
    SealedFieldOut,
    identity_out,
)
from intake.entrypoints.routes import RuntimeDep
from intake.service_layer import privacy as handlers
from intake.service_layer.privacy import Erasure, Privacy
from shared.access import AccessRecorder, reads_personal_data
from shared.auth import OPERATOR_SCOPE, Principal
from shared.contracts.intake import LEGAL_BASIS_ERASURE, LEGAL_BASIS_REGISTRATION, DataCategory
from shared.eventstore.access_log import ProcessingActivity
from shared.http import Problem, RequireScope, command_context
from shared.runtime import Runtime
from shared.settings import IntakeSettings

router = APIRouter(prefix="/v1", tags=["privacy"])
IdentityReader = Annotated[Principal, Depends(RequireScope("intake:identity"))]
Unsealer = Annotated[Principal, Depends(RequireScope("intake:unseal"))]
Operator = Annotated[Principal, Depends(RequireScope(OPERATOR_SCOPE))]

# The access log names the vault reads after the purpose the caller gives ("identity-vault:housing").
IDENTITY_VAULT = ProcessingActivity("identity-vault", LEGAL_BASIS_REGISTRATION)
SEALED_FIELD = ProcessingActivity("sealed-field", LEGAL_BASIS_REGISTRATION)
ERASURE_REGISTER = ProcessingActivity("erasure-register", LEGAL_BASIS_ERASURE)
IdentityRead = Annotated[AccessRecorder, Depends(reads_personal_data(IDENTITY_VAULT))]
SealedFieldRead = Annotated[AccessRecorder, Depends(reads_personal_data(SEALED_FIELD))]
ErasureRegisterRead = Annotated[AccessRecorder, Depends(reads_personal_data(ERASURE_REGISTER))]


def privacy_from(runtime: Runtime) -> Privacy:
    settings = runtime.settings
    if not isinstance(settings, IntakeSettings):
        raise TypeError("intake runs with IntakeSettings (the vault's master key and retention periods)")
    return Privacy(
        cipher=VaultCipher(settings.master_key()),
        retention=RetentionPeriods(
            identity=timedelta(days=settings.retention_identity_days),
            documents=timedelta(days=settings.retention_documents_days),
        ),
    )


async def privacy_of(runtime: RuntimeDep) -> Privacy:
    return privacy_from(runtime)


PrivacyDep = Annotated[Privacy, Depends(privacy_of)]


def _gone(error: handlers.PersonalDataGone) -> Problem:
    return Problem(410, "The personal data was erased.", error.detail, code=error.code)


@router.post(
    "/persons/{person_id}/identity/_open",
    summary="Read a person's vault record (V-number, names, date of birth, documents); logged",
    description="For agencies with scope `intake:identity`. The purpose is logged with the caller and the "
    "person id (never the data). 410 `personal-data-erased` after erasure; 404 if never identified.",
    responses={410: {"description": "The personal data was erased"}},
)
async def open_identity(
    person_id: str,
    body: IdentityReadIn,
    runtime: RuntimeDep,
    privacy: PrivacyDep,
    principal: IdentityReader,
    access: IdentityRead,
) -> IdentityOut:
    async with runtime.units_of_work() as uow:
        try:
            identity = await handlers.read_identity(
                uow, person_id, principal.actor, body.purpose.value, privacy
            )
        except handlers.PersonalDataGone as gone:
            raise _gone(gone) from None
    await access.read([person_id], purpose=body.purpose.value)
    return identity_out(person_id, identity)


@router.post(
    "/persons/{person_id}/sealed-fields/_open",
    summary="Open a field that travelled sealed in an event (the name, for housing); logged",
    description="For scope `intake:unseal` (COA, municipalities, AVIM, IND). The value must have been sealed "
    "for this person and field (409 `sealed-value-invalid` otherwise). 410 after erasure.",
    responses={410: {"description": "The personal data was erased"}},
)
async def open_sealed_field(
    person_id: str,
    body: SealedFieldIn,
    runtime: RuntimeDep,
    privacy: PrivacyDep,
    principal: Unsealer,
    access: SealedFieldRead,
) -> SealedFieldOut:
    async with runtime.units_of_work() as uow:
        try:
            value = await handlers.open_sealed_field(
                uow, person_id, body.field, body.sealed, principal.actor, body.purpose.value, privacy
            )
        except handlers.PersonalDataGone as gone:
            raise _gone(gone) from None
    await access.read([person_id], purpose=body.purpose.value)
    return SealedFieldOut(person_id=person_id, field=body.field, value=value)


def _erasure_out(erasure: Erasure) -> ErasureOut:
    return ErasureOut(
        erasure_id=erasure.erasure_id,
        person_id=erasure.person_id,
        categories=list(erasure.categories),
        ground=erasure.ground,
        legal_basis=erasure.legal_basis,
        actor=erasure.actor,
        erased_at=erasure.erased_at,
    )


@router.post(
    "/persons/{person_id}/erasure",
    summary="Erase a person's personal data (crypto-shredding); operator scope, legal basis required",
    description="Deletes the person's key: the vault record and every sealed copy of their data become "
    "unreadable. Publishes PersonalDataErased; read models drop their personal fields. The history "
    "stays, under the pseudonymous id. 409 `already-erased` the second time.",
    openapi_extra={
        "requestBody": {
            "content": {
                "application/json": {
                    "example": {
                        "ground": "erasure-request",
                        "legalBasis": "AVG art. 17 lid 1 onder a; verzoek 2026-0042",
                    }
                }
            }
        }
    },
)
async def erase_personal_data(
    person_id: str, body: ErasureIn, runtime: RuntimeDep, privacy: PrivacyDep, principal: Operator
) -> ErasureOut:
    command = ErasePersonalData(
        person_id=person_id,
        categories=frozenset({DataCategory.IDENTITY}),
        ground=body.ground,
        occurred_at=runtime.clock.now(),
    )
    async with runtime.units_of_work() as uow:
        erasure = await handlers.erase_personal_data(
            uow, command, body.legal_basis, command_context(principal), privacy
        )
    return _erasure_out(erasure)


@router.get(
    "/erasures",
    summary="The erasure register: what was erased, when, by whom, on which ground (operator scope)",
    description="Erasures on request and by the retention job alike, oldest first. Persons appear by "
    "pseudonymous id only.",
)
async def erasure_register(
    runtime: RuntimeDep,
    _: Operator,
    access: ErasureRegisterRead,
    since: Annotated[datetime | None, Query(description="Only erasures at or after this moment")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 500,
) -> ErasureRegisterOut:
    if since is not None and since.tzinfo is None:
        raise Problem(400, "`since` needs a time zone.", code="invalid-request")
    async with runtime.units_of_work() as uow:
        erasures = await handlers.erasure_register(uow, since, limit)
    await access.read(e.person_id for e in erasures)
    return ErasureRegisterOut(erasures=[_erasure_out(e) for e in erasures])
