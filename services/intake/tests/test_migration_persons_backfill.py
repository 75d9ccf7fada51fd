"""Upgrading a database that already holds households (revision 0001) fills the persons lookup from
the PersonRegistered events, so person-level commands find households registered before 0002."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from alembic import command
from alembic.config import Config

from intake.entrypoints.app import DEFINITION


def _row(event_type: str, stream_id: str, version: int, subject: str) -> tuple[object, ...]:
    return (
        f"00000000-0000-7000-8000-{version:012d}",
        stream_id,
        version,
        event_type,
        1,
        subject,
        "2024-05-01 08:00:00+00:00",
        "2024-05-01 08:00:01+00:00",
        "IND:test",
        "c-1",
        "Vreemdelingenwet 2000 art. 107 (vreemdelingenadministratie)",
        "{}",
    )


def test_upgrading_fills_the_persons_lookup_from_registered_persons(tmp_path: Path) -> None:
    database = tmp_path / "intake.db"
    config = Config()
    config.set_main_option("script_location", str(DEFINITION.migrations))
    config.set_main_option("sqlalchemy.url", f"sqlite+aiosqlite:///{database}")
    # given a store at revision 0001 with one household of two persons
    command.upgrade(config, "0001")
    with closing(sqlite3.connect(database)) as db, db:
        db.executemany(
            "INSERT INTO events (event_id, stream_id, stream_version, event_type, schema_version, subject, "
            "occurred_at, recorded_at, actor, correlation_id, legal_basis, payload) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                _row("nl.asielketen.intake.household-registered", "household-h-1", 1, "h-1"),
                _row("nl.asielketen.intake.person-registered", "household-h-1", 2, "p-1"),
                _row("nl.asielketen.intake.person-registered", "household-h-1", 3, "p-2"),
            ],
        )
    # when the database is upgraded
    command.upgrade(config, "head")
    # then both persons point at their household, and the vault is there, empty
    with closing(sqlite3.connect(database)) as db:
        persons = db.execute("SELECT person_id, household_id FROM persons ORDER BY person_id").fetchall()
        vault = db.execute("SELECT count(*) FROM identity_vault").fetchone()
    assert persons == [("p-1", "h-1"), ("p-2", "h-1")]
    assert vault == (0,)
