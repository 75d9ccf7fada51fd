"""Adapters of placement: the location table (a snapshot kept in step with the location streams),
migrations and the seed list of real locations."""
