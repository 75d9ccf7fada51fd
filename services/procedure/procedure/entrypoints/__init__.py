"""Entry points of procedure: HTTP routes and reactions."""
