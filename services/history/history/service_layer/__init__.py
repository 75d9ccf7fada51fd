"""Use cases of the read side: applying facts to read models, and answering queries."""
