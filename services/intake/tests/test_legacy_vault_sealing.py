"""A database from before the encrypted vault (revision 0002 kept V-numbers in the clear): at the first
start with the new vault, intake seals each V-number under a new person key and empties the old table;
the person is still found by V-number, and the V-number is nowhere in the clear any more."""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import closing
from pathlib import Path

from alembic import command
from alembic.config import Config
from intake_privacy_fixtures import Agencies, absent, every_row, intake_settings, running_intake

from intake.entrypoints.app import DEFINITION
from tests.fixtures import MintToken

V_NUMBER = "7302918465"


async def test_plaintext_v_numbers_of_revision_0002_are_sealed_at_start(
    tmp_path: Path, auth_dir: Path, token_for: MintToken
) -> None:
    database = tmp_path / "intake.db"
    config = Config()
    config.set_main_option("script_location", str(DEFINITION.migrations))
    config.set_main_option("sqlalchemy.url", f"sqlite+aiosqlite:///{database}")
    # given a vault at revision 0002 with one V-number in the clear
    await asyncio.to_thread(command.upgrade, config, "0002")  # Alembic's env runs its own event loop
    with closing(sqlite3.connect(database)) as db, db:
        db.execute("INSERT INTO persons (person_id, household_id) VALUES ('p-1', 'h-1')")
        db.execute(
            "INSERT INTO identity_vault (person_id, v_number, v_number_ref, recorded_at) "
            "VALUES ('p-1', ?, 'ref-1', '2025-01-06 10:00:00+00:00')",
            (V_NUMBER,),
        )
    # when intake starts on it
    async with running_intake(intake_settings(tmp_path, auth_dir)) as app:
        # then the person is found by V-number, through the sealed vault
        found = await Agencies(app, token_for).call("COA", "POST", "/v1/persons/_zoek", {"vNumber": V_NUMBER})
        assert found.status_code == 200 and found.json() == {"personId": "p-1", "householdId": "h-1"}
        # and the V-number is in no table in the clear, the old one included
        assert absent(V_NUMBER, await every_row(app))
    with closing(sqlite3.connect(database)) as db:
        assert db.execute("SELECT count(*) FROM identity_vault").fetchone() == (0,)
        assert db.execute("SELECT count(*) FROM person_keys WHERE person_id = 'p-1'").fetchone() == (1,)
        assert db.execute("SELECT kind FROM deadlines").fetchall() == [("retention",)]
