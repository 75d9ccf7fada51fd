"""Entry points of placement: HTTP routes, and the reactions to other services' events."""
