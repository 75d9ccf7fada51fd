from alembic import context

from placement.adapters.locations import metadata as locations_metadata
from shared.eventstore.migrations import run_env
from shared.eventstore.schema import metadata as event_store_metadata

run_env(context, [event_store_metadata, locations_metadata])
