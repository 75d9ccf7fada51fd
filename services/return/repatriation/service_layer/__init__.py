"""Use cases of the return service."""
