"""The chain simulator (`asielketen simulate`): a seeded, reproducible flow of households through the five
services' real HTTP APIs, with figures from DOMAIN.md (see simulator.parameters). An HTTP client only: it
imports no service, so it sees the chain exactly as an agency does."""
