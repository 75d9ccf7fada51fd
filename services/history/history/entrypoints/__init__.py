"""Entry points of the read side: HTTP queries and the consumer of every topic."""
