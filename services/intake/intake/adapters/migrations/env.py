from alembic import context

from shared.eventstore.migrations import run_env
from shared.eventstore.schema import metadata

run_env(context, metadata)
