"""The identity vault: each person's personal data sealed with that person's own key.

Contract:
- `seal` seals the identity (category `identity`: V-number, names, date of birth) and the document
  references (category `documents`) under a new person key; `deposit` stores the key wrapped by the
  master key, the sealed records, and the V-number's keyed blind index. It runs in the caller's
  transaction, beside the event that records the identification, so either both are written or neither.
- A V-number is held by one person: the blind index is unique, so of two identifications racing with
  one V-number the second fails (`v-number-in-use`) even if both passed the look-up.
- `erase` with `identity` deletes the person's key, records and index row: from then on nothing sealed
  for that person opens, wherever a copy of it lives. Erasing `documents` alone deletes that record.
- Nothing here logs, and no exception raised here carries personal data.

Keys are reached through `PersonKeys`, so they can live elsewhere than beside the records (a key
management service or HSM with its own, shorter backup cycle) — which is what makes erasure reach the
backups of the records too. `DatabasePersonKeys` keeps them in intake's own database, table
`person_keys`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from intake.adapters import crypto
from intake.adapters.tables import identity_records, identity_vault, person_keys, persons, v_number_index
from intake.domain.identity import DocumentKind, DocumentReference, Identity
from shared.contracts.intake import DataCategory
from shared.domain import RuleViolation

NAME_FIELD = "name"  # the sealed field IdentificationAndRegistrationCompleted carries


class PersonKeys(Protocol):
    """Where person keys live. Every method runs in the caller's transaction (for the database store)."""

    async def put(self, person_id: str, key: bytes, created_at: datetime) -> None:
        """Keep `key` as the person's key; a second key for one person is an error."""

    async def get(self, person_id: str) -> bytes | None:
        """The person's key, or None if it never existed or was erased."""

    async def delete(self, person_id: str) -> bool:
        """Erase the person's key; True if there was one."""


class DatabasePersonKeys:
    """Person keys in intake's database, each wrapped (AES-GCM) by a key derived from the master key."""

    def __init__(self, session: AsyncSession, cipher: crypto.VaultCipher) -> None:
        self._session = session
        self._cipher = cipher

    async def put(self, person_id: str, key: bytes, created_at: datetime) -> None:
        wrapped = self._cipher.wrap(person_id, key)
        await self._session.execute(
            sa.insert(person_keys).values(person_id=person_id, wrapped_key=wrapped, created_at=created_at)
        )

    async def get(self, person_id: str) -> bytes | None:
        result = await self._session.execute(
            sa.select(person_keys.c.wrapped_key).where(person_keys.c.person_id == person_id)
        )
        wrapped: bytes | None = result.scalar_one_or_none()
        return None if wrapped is None else self._cipher.unwrap(person_id, wrapped)

    async def delete(self, person_id: str) -> bool:
        result = await self._session.execute(
            sa.delete(person_keys).where(person_keys.c.person_id == person_id)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]


def _identity_plaintext(identity: Identity) -> bytes:
    return json.dumps(
        {
            "v_number": identity.v_number,
            "given_names": identity.given_names,
            "family_name": identity.family_name,
            "date_of_birth": None if identity.date_of_birth is None else identity.date_of_birth.isoformat(),
        }
    ).encode()


def _documents_plaintext(documents: tuple[DocumentReference, ...]) -> bytes:
    return json.dumps(
        [{"kind": d.kind.value, "number": d.number, "issuing_country": d.issuing_country} for d in documents]
    ).encode()


def _identity_from(data: dict[str, Any], documents: list[dict[str, Any]]) -> Identity:
    born = data.get("date_of_birth")
    return Identity(
        v_number=data["v_number"],
        given_names=data.get("given_names"),
        family_name=data.get("family_name"),
        date_of_birth=None if born is None else date.fromisoformat(born),
        documents=tuple(
            DocumentReference(
                kind=DocumentKind(d["kind"]), number=d["number"], issuing_country=d["issuing_country"]
            )
            for d in documents
        ),
    )


@dataclass(frozen=True, slots=True)
class SealedIdentity:
    """An identity sealed under a new person key, ready to deposit."""

    person_id: str
    key: bytes = field(repr=False)
    records: tuple[tuple[DataCategory, bytes], ...] = field(repr=False)
    v_number_hmac: str = field(repr=False)
    sealed_name: str | None = field(repr=False)


class IdentityVault:
    def __init__(self, session: AsyncSession, cipher: crypto.VaultCipher, keys: PersonKeys | None = None):
        self._session = session
        self._cipher = cipher
        self._keys = keys or DatabasePersonKeys(session, cipher)

    async def holder_of(self, v_number: str) -> str | None:
        """The person the V-number is assigned to, if any."""
        result = await self._session.execute(
            sa.select(v_number_index.c.person_id).where(
                v_number_index.c.v_number_hmac == self._cipher.v_number_index(v_number)
            )
        )
        person_id: str | None = result.scalar_one_or_none()
        return person_id

    async def resolve(self, v_number: str) -> tuple[str, str] | None:
        """(person id, household id) of the V-number's holder, if any."""
        result = await self._session.execute(
            sa.select(persons.c.person_id, persons.c.household_id)
            .join(v_number_index, v_number_index.c.person_id == persons.c.person_id)
            .where(v_number_index.c.v_number_hmac == self._cipher.v_number_index(v_number))
        )
        row = result.first()
        return None if row is None else (row.person_id, row.household_id)

    def seal(self, person_id: str, identity: Identity) -> SealedIdentity:
        """Seal `identity` under a new key for the person; nothing is stored yet (`deposit` does)."""
        key = self._cipher.new_person_key()
        records = [(DataCategory.IDENTITY, _identity_plaintext(identity))]
        if identity.documents:
            records.append((DataCategory.DOCUMENTS, _documents_plaintext(identity.documents)))
        name = identity.name
        return SealedIdentity(
            person_id=person_id,
            key=key,
            records=tuple(
                (category, crypto.seal(key, crypto.record_aad(person_id, category.value), plaintext))
                for category, plaintext in records
            ),
            v_number_hmac=self._cipher.v_number_index(identity.v_number),
            sealed_name=None if name is None else crypto.seal_field(key, person_id, NAME_FIELD, name),
        )

    async def deposit(self, sealed: SealedIdentity, v_number_ref: str, recorded_at: datetime) -> None:
        """Store a sealed identity: index, wrapped key, records."""
        try:
            await self._session.execute(
                sa.insert(v_number_index).values(
                    person_id=sealed.person_id, v_number_hmac=sealed.v_number_hmac, v_number_ref=v_number_ref
                )
            )
        except IntegrityError:
            # `from None`: the driver's message quotes the row, and a chained cause would carry it into
            # any log line that prints this exception.
            raise RuleViolation(
                "this V-number is assigned to another person", code="v-number-in-use"
            ) from None
        await self._keys.put(sealed.person_id, sealed.key, recorded_at)
        await self._session.execute(
            sa.insert(identity_records),
            [
                {
                    "person_id": sealed.person_id,
                    "category": category.value,
                    "ciphertext": ciphertext,
                    "recorded_at": recorded_at,
                }
                for category, ciphertext in sealed.records
            ],
        )

    async def open(self, person_id: str) -> Identity | None:
        """The person's vault record, or None when there is no key (never identified, or erased)."""
        key = await self._keys.get(person_id)
        if key is None:
            return None
        rows = {
            row.category: row.ciphertext
            for row in await self._session.execute(
                sa.select(identity_records.c.category, identity_records.c.ciphertext).where(
                    identity_records.c.person_id == person_id
                )
            )
        }
        identity = rows.get(DataCategory.IDENTITY.value)
        if identity is None:
            return None

        def opened(category: DataCategory, sealed: bytes) -> Any:
            return json.loads(crypto.open_sealed(key, crypto.record_aad(person_id, category.value), sealed))

        documents = rows.get(DataCategory.DOCUMENTS.value)
        return _identity_from(
            opened(DataCategory.IDENTITY, identity),
            [] if documents is None else opened(DataCategory.DOCUMENTS, documents),
        )

    async def open_field(self, person_id: str, field: str, sealed: str) -> str | None:
        """A sealed field's value; None when the person's key is gone. `crypto.SealBroken` when the
        value was not sealed for this person and field."""
        key = await self._keys.get(person_id)
        return None if key is None else crypto.open_field(key, person_id, field, sealed)

    async def erase(self, person_id: str, categories: frozenset[DataCategory]) -> None:
        if DataCategory.IDENTITY in categories:
            await self._keys.delete(person_id)
            await self._session.execute(
                sa.delete(v_number_index).where(v_number_index.c.person_id == person_id)
            )
            await self._session.execute(
                sa.delete(identity_records).where(identity_records.c.person_id == person_id)
            )
            return
        await self._session.execute(
            sa.delete(identity_records).where(
                identity_records.c.person_id == person_id,
                identity_records.c.category.in_([category.value for category in categories]),
            )
        )


async def seal_legacy_records(
    session: AsyncSession, cipher: crypto.VaultCipher
) -> list[tuple[str, datetime]]:
    """Move the V-numbers revision 0002 kept in the clear into the encrypted vault, and delete them
    there; returns (person id, recorded at) of each. Done at start-up, because only the running service
    holds the master key. Their `v_number_ref` stays what the published events carry."""
    rows = list(await session.execute(sa.select(identity_vault)))
    vault = IdentityVault(session, cipher)
    for row in rows:
        sealed = vault.seal(row.person_id, Identity(v_number=row.v_number))
        await vault.deposit(sealed, row.v_number_ref, row.recorded_at)
    if rows:
        await session.execute(sa.delete(identity_vault))
    return [(row.person_id, row.recorded_at) for row in rows]
