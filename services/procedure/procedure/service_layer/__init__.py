"""Use cases of procedure."""
