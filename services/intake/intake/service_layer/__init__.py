"""Use cases of intake: load state from the event store, decide, append, commit."""
