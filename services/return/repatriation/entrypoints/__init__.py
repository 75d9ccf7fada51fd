"""Entry points of the return service: HTTP routes and reactions."""
