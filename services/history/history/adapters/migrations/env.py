from alembic import context

from history.adapters.tables import metadata as read_model_metadata
from shared.eventstore.migrations import run_env
from shared.eventstore.schema import metadata as event_store_metadata

run_env(context, [event_store_metadata, read_model_metadata])
