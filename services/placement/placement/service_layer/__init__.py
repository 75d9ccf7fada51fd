"""Use cases of placement, each in one unit of work: household and location streams change together."""
