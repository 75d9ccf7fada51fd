from alembic import context

import shared.scheduler  # noqa: F401  (puts the deadlines table on the event-store metadata)
from repatriation.adapters.tables import metadata as return_metadata
from shared.eventstore.migrations import run_env
from shared.eventstore.schema import metadata as event_store_metadata

run_env(context, [event_store_metadata, return_metadata])
