"""history: the read side of the chain. Fed only by the Kafka topics of the four agency services, it
rebuilds each person's residence history and answers the questions of agencies, operations and audit.
It writes no events of its own."""
