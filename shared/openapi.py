"""The OpenAPI document each service publishes, completed with what the shared HTTP edge does to every
route: the problem+json answers (RFC 9457) it gives for a bad request, a refused token, a missing
resource, a rule, a stale If-Match, a too large body or an error of ours, the bearer token it asks
for, and the Idempotency-Key header its commands accept.

FastAPI documents only what a route declares, plus a 422 `HTTPValidationError` the edge never sends (it
answers 400 problem+json, see shared/http.py). A client generated from that document, or a fuzzer
checking answers against it (tests/api/test_openapi_fuzz.py), would be told the wrong thing; so the
document is completed here once, the same way for every service, from the routes themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts

from shared.http import PROBLEM_JSON, authenticated
from shared.idempotency import COMMAND_METHODS, IDEMPOTENCY_HEADER, MAX_KEY_LENGTH

BEARER_SCHEME = "bearerAuth"
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details; `code` is stable, `invalidParams` lists every invalid field.",
    "type": "object",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string"},
        "invalidParams": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "code", "reason"],
                "properties": {
                    "name": {"type": "string"},
                    "code": {"type": "string"},
                    "reason": {"type": "string"},
                },
            },
        },
    },
    # extensions, such as `maxBytes` on a 413
    "additionalProperties": True,
}
DESCRIPTIONS = {
    "400": "The request is not valid (`invalid-request`, every problem in `invalidParams`)",
    "401": "No token, or a token that does not verify (`unauthenticated`)",
    "403": "The token's agency may not do this (`insufficient-scope`)",
    "404": "Not found (`not-found`)",
    "409": "A rule refuses the command (`code` names it), a race was lost, or a command with this "
    "Idempotency-Key is still being handled",
    "412": "If-Match names an older version (`precondition-failed`)",
    "413": "The request body is too large (`body-too-large`, says `maxBytes`)",
    "422": "This Idempotency-Key was used for another command (`idempotency-key-reused`)",
    "500": "An error of ours (`internal-error`), logged with the request's correlation id",
    "503": "Not ready, or the read side has not applied the events named in `after` in time",
}
IDEMPOTENCY_PARAMETER: dict[str, Any] = {
    "name": IDEMPOTENCY_HEADER,
    "in": "header",
    "required": False,
    "description": "Send the command again with the same key and get its first answer back, not a second "
    "copy of its events (docs/api.md)",
    # printable ASCII, as shared/idempotency.py checks
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH, "pattern": "^[ -~]+$"},
}


def document_the_edge(app: FastAPI, *, takes_commands: bool) -> None:
    """Make `app.openapi()` return the completed document. FastAPI builds it once and again only when
    routes were added; each new build is completed once."""
    generate: Callable[[], dict[str, Any]] = app.openapi
    completed: list[dict[str, Any]] = []

    def openapi() -> dict[str, Any]:
        spec = generate()
        if not completed or completed[-1] is not spec:
            complete(spec, app, takes_commands=takes_commands)
            completed[:] = [spec]
        return spec

    app.openapi = openapi  # type: ignore[method-assign]


def complete(spec: dict[str, Any], app: FastAPI, *, takes_commands: bool) -> None:
    protected = {
        (method, context.path_format)
        for context in iter_route_contexts(app.routes)
        if isinstance(context.original_route, APIRoute) and needs_token(context.dependant)
        for method in context.methods or ()
    }
    components = spec.setdefault("components", {})
    components.setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    components.setdefault("securitySchemes", {})[BEARER_SCHEME] = {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT (RFC 9068 access token)",
    }
    for path, operations in spec.get("paths", {}).items():
        for method, operation in operations.items():
            statuses = problem_statuses(
                path,
                method.upper(),
                operation,
                protected=(method.upper(), path) in protected,
                takes_commands=takes_commands,
            )
            if (method.upper(), path) in protected:
                operation["security"] = [{BEARER_SCHEME: []}]
            if takes_commands and method.upper() in COMMAND_METHODS:
                operation.setdefault("parameters", []).append(IDEMPOTENCY_PARAMETER)
            responses = operation.setdefault("responses", {})
            if _is_fastapi_validation_error(responses.get("422")):
                del responses["422"]
            for status in statuses:
                responses.setdefault(status, {"description": DESCRIPTIONS[status]})
            for status, response in responses.items():
                if status.startswith(("4", "5")):
                    response["content"] = {PROBLEM_JSON: {"schema": PROBLEM_REF}}
    schemas = components["schemas"]
    if "HTTPValidationError" in schemas and "HTTPValidationError" not in str(spec["paths"]):
        schemas.pop("HTTPValidationError")
        schemas.pop("ValidationError", None)


def problem_statuses(
    path: str, method: str, operation: dict[str, Any], *, protected: bool, takes_commands: bool
) -> list[str]:
    """The problem answers the edge can give for this operation."""
    parameters = {parameter["name"] for parameter in operation.get("parameters", [])}
    statuses = ["500"]
    if (
        parameters
        or "requestBody" in operation
        or _is_fastapi_validation_error(operation.get("responses", {}).get("422"))
    ):
        statuses.append("400")
    if protected:
        statuses += ["401", "403"]
    if "{" in path:
        statuses.append("404")  # the resource the path names may not exist
    if "requestBody" in operation:
        statuses.append("413")
    if "If-Match" in parameters:
        statuses.append("412")
    if takes_commands and method in COMMAND_METHODS:
        statuses += ["400", "409", "422"]  # Idempotency-Key: malformed, in progress, reused
    if "after" in parameters or path == "/ready":
        statuses.append("503")
    return sorted(set(statuses))


def needs_token(dependant: Dependant) -> bool:
    """Whether the route (through any of its dependencies) asks for the bearer token."""
    return any(
        dependency.call is authenticated or needs_token(dependency) for dependency in dependant.dependencies
    )


def _is_fastapi_validation_error(response: dict[str, Any] | None) -> bool:
    return response is not None and "HTTPValidationError" in str(response.get("content", {}))
