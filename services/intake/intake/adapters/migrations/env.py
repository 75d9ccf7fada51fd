from alembic import context

from intake.adapters.tables import metadata as intake_metadata
from shared.eventstore.migrations import run_env
from shared.eventstore.schema import metadata as event_store_metadata

run_env(context, [event_store_metadata, intake_metadata])
