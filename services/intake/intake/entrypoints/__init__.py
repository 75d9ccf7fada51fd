"""Entry points of intake: the FastAPI app and its routes."""
