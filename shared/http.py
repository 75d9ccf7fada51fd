"""The HTTP edge every service shares: problem+json errors (RFC 9457), bearer-token dependencies,
security and version headers (Dutch API Design Rules), correlation ids, and /health and /ready.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.auth import AuthenticationError, AuthorisationError, Principal, TokenVerifier
from shared.domain import NotFound, PreconditionFailed, RuleViolation
from shared.eventstore import CommandContext, ConcurrencyConflict
from shared.eventstore.access_log import WRITE, AccessOperation
from shared.eventstore.idempotency import IdempotencyKeyInFlight
from shared.eventstore.store import appended_event_ids
from shared.ids import new_id
from shared.logging import correlation_id

log = logging.getLogger(__name__)

API_VERSION = "1.0.0"
PROBLEM_JSON = "application/problem+json"
CORRELATION_HEADER = "X-Correlation-ID"
# Read-your-writes: a command's response names the events it appended; the read side's queries accept
# them as `?after=<id>,<id>` and wait (bounded) until it has applied them.
EVENT_IDS_HEADER = "X-Event-Ids"
LAST_EVENT_ID_HEADER = "X-Last-Event-Id"

SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'none'",
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
    "Referrer-Policy": "no-referrer",
    "API-Version": API_VERSION,
}


class Problem(Exception):
    """Raise anywhere in a route to answer with problem+json."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str | None = None,
        *,
        code: str | None = None,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail or title)
        self.status = status
        self.title = title
        self.detail = detail
        self.code = code
        self.headers = headers  # e.g. Retry-After on a 503
        self.extensions = extensions


def problem_response(
    status: int,
    title: str,
    detail: str | None = None,
    *,
    code: str | None = None,
    headers: dict[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"https://asielketen.nl/problems/{code or status}",
        "title": title,
        "status": status,
    }
    if detail:
        body["detail"] = detail
    if code:
        body["code"] = code
    body.update(extensions)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(_: Request, error: Problem) -> JSONResponse:
        return problem_response(
            error.status,
            error.title,
            error.detail,
            code=error.code,
            headers=error.headers,
            **error.extensions,
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, error: RequestValidationError) -> JSONResponse:
        invalid = [
            {
                "name": ".".join(str(part) for part in item.get("loc", ()) if part != "body") or "body",
                "code": item.get("type", "invalid"),
                "reason": item.get("msg", "invalid"),
            }
            for item in error.errors()
        ]
        return problem_response(
            400,
            "The request is not valid.",
            "See invalidParams for every problem found.",
            code="invalid-request",
            invalidParams=invalid,
        )

    @app.exception_handler(AuthenticationError)
    async def _unauthenticated(request: Request, error: AuthenticationError) -> JSONResponse:
        # RFC 6750 section 3.1: no error code when the request carried no credentials at all.
        challenge = 'Bearer error="invalid_token"' if request.headers.get("Authorization") else "Bearer"
        return problem_response(
            401,
            "Authentication required.",
            str(error),
            code="unauthenticated",
            headers={"WWW-Authenticate": challenge},
        )

    @app.exception_handler(AuthorisationError)
    async def _forbidden(_: Request, error: AuthorisationError) -> JSONResponse:
        return problem_response(
            403,
            "Not allowed for this client.",
            str(error),
            code="insufficient-scope",
            headers={"WWW-Authenticate": 'Bearer error="insufficient_scope"'},
        )

    @app.exception_handler(ConcurrencyConflict)
    async def _conflict(_: Request, error: ConcurrencyConflict) -> JSONResponse:
        return problem_response(
            409,
            "The case changed while this command was handled.",
            f"{error} Read it again and retry.",
            code="concurrency-conflict",
        )

    @app.exception_handler(IdempotencyKeyInFlight)
    async def _key_in_flight(_: Request, error: IdempotencyKeyInFlight) -> JSONResponse:
        return problem_response(
            409,
            "A command with this Idempotency-Key is being handled.",
            "Another request with this key recorded its events first; retry in a moment for its answer.",
            code="idempotency-key-in-progress",
            headers={"Retry-After": "1"},
        )

    @app.exception_handler(NotFound)
    async def _not_found(_: Request, error: NotFound) -> JSONResponse:
        return problem_response(404, "Not found.", error.detail, code=error.code)

    @app.exception_handler(PreconditionFailed)
    async def _precondition(_: Request, error: PreconditionFailed) -> JSONResponse:
        return problem_response(412, "The resource changed since you read it.", error.detail, code=error.code)

    @app.exception_handler(RuleViolation)
    async def _rule(_: Request, error: RuleViolation) -> JSONResponse:
        return problem_response(409, "The command breaks a rule.", error.detail, code=error.code)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, error: StarletteHTTPException) -> JSONResponse:
        return problem_response(error.status_code, str(error.detail), headers=getattr(error, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, error: Exception) -> JSONResponse:
        log.exception("unhandled error")
        return _internal_error()


def _internal_error() -> JSONResponse:
    return problem_response(
        500,
        "Internal error.",
        "The error was logged with this request's correlation id.",
        code="internal-error",
    )


@dataclass(frozen=True, slots=True)
class ServedRequest:
    """The request being served, as the access log names it: the service and the route's template
    (never the concrete path, which holds ids)."""

    service: str
    scope: Scope

    @property
    def operation_name(self) -> str:
        route = self.scope.get("route")
        return f"{self.scope.get('method', '')} {getattr(route, 'path', '(no route)')}"


# Set by the edge middleware for each request; the route's task inherits it (see command_context).
served_request: ContextVar[ServedRequest | None] = ContextVar("served_request", default=None)


def install_edge_middleware(app: FastAPI, *, service: str = "") -> None:
    @app.middleware("http")
    async def _edge(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        incoming = request.headers.get(CORRELATION_HEADER, "")
        current = incoming if 0 < len(incoming) <= 64 and incoming.isascii() else new_id()
        token = correlation_id.set(current)
        served_token = served_request.set(ServedRequest(service, request.scope))
        appended: list[str] = []
        appended_token = appended_event_ids.set(appended)  # the route's task inherits this very list
        try:
            response = await call_next(request)
        except Exception:
            # An error no handler turned into a response. Answer it here, inside the correlation scope:
            # Starlette's catch-all handler runs outside this middleware, so its log line would lack the
            # correlation id and its response the correlation and security headers.
            log.exception("unhandled error")
            response = _internal_error()
        finally:
            correlation_id.reset(token)
            served_request.reset(served_token)
            appended_event_ids.reset(appended_token)
        if appended and 200 <= response.status_code < 300:
            response.headers[EVENT_IDS_HEADER] = ",".join(appended)
            response.headers[LAST_EVENT_ID_HEADER] = appended[-1]
        response.headers[CORRELATION_HEADER] = current
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response


# --- request body limit ---------------------------------------------------------------------------

DEFAULT_MAX_BODY_BYTES = 64 * 1024


def body_too_large(limit: int) -> JSONResponse:
    return problem_response(
        413,
        "The request body is too large.",
        f"This service accepts request bodies of at most {limit} bytes.",
        code="body-too-large",
        maxBytes=limit,
    )


class BodyLimitMiddleware:
    """Refuse request bodies over the limit with 413 problem+json, before the app holds them.

    A body with Content-Length is judged on it at once (the server holds the client to that length).
    A chunked body names no length: it is read here, at most limit + 1 bytes, and handed on whole. Read
    here rather than counted as the app reads it, because an error raised while a route reads its body
    reaches FastAPI wrapped by the middlewares in between and becomes a 400. The limit is read per
    request from the running service's settings (MAX_REQUEST_BODY_BYTES). Install it inside the edge
    middleware (add it before), so a 413 carries the edge's headers like any other answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        runtime = getattr(scope["app"].state, "runtime", None)
        settings = getattr(runtime, "settings", None)
        limit = int(getattr(settings, "max_request_body_bytes", DEFAULT_MAX_BODY_BYTES))
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None:
            if not declared.isdigit() or int(declared) > limit:
                await body_too_large(limit)(scope, receive, send)
                return
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away: let the app see it
                await self.app(scope, _replay([message]), send)
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await body_too_large(limit)(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        await self.app(scope, _replay([{"type": "http.request", "body": b"".join(chunks)}], receive), send)


def _replay(messages: list[Message], then: Receive | None = None) -> Receive:
    """A receive that gives `messages` first, then whatever `then` gives (a disconnect, later)."""
    pending = list(messages)

    async def receive() -> Message:
        if pending:
            return pending.pop(0)
        if then is None:
            return {"type": "http.disconnect"}
        return await then()

    return receive


async def refuse_unknown_query_parameters(request: Request) -> None:
    """An app-wide dependency: a query parameter the route does not take is refused (400), as an unknown
    body field is. Silently ignored, a typo (`validat=` for `validAt=`) would answer another question
    than the one asked: the history as of now instead of as it was then."""
    dependant: Dependant | None = getattr(request.scope.get("route"), "dependant", None)
    if dependant is None:
        return
    unknown = sorted(set(request.query_params) - _query_parameter_names(dependant))
    if unknown:
        raise Problem(
            400,
            "The request is not valid.",
            "See invalidParams for every problem found.",
            code="invalid-request",
            invalidParams=[
                {
                    "name": f"query.{name}",
                    "code": "unknown-parameter",
                    "reason": "this operation takes no such parameter",
                }
                for name in unknown
            ],
        )


def _query_parameter_names(dependant: Dependant) -> set[str]:
    names = {parameter.alias for parameter in dependant.query_params}
    for dependency in dependant.dependencies:
        names |= _query_parameter_names(dependency)
    return names


async def verifier_of(request: Request) -> TokenVerifier:
    verifier: TokenVerifier = request.app.state.runtime.verifier
    return verifier


async def authenticated(
    request: Request, verifier: Annotated[TokenVerifier, Depends(verifier_of)]
) -> Principal:
    return principal_of(request, verifier)


def principal_of(request: Request, verifier: TokenVerifier) -> Principal:
    """The caller the request's bearer token names (AuthenticationError when it names none)."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationError("send an access token as 'Authorization: Bearer <token>'")
    return verifier.verify(token.strip())


class RequireScope:
    """A dependency: the caller's principal, provided it holds `scope` (401 / 403 otherwise)."""

    def __init__(self, scope: str) -> None:
        self.scope = scope

    async def __call__(self, principal: Annotated[Principal, Depends(authenticated)]) -> Principal:
        principal.require(self.scope)
        return principal


def health_router(readiness: Callable[[], Awaitable[dict[str, Any]]]) -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/health", summary="Liveness: the process answers")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @router.get(
        "/ready", summary="Readiness: the database answers and the schema is current", response_model=None
    )
    async def ready() -> JSONResponse | dict[str, Any]:
        try:
            report = await readiness()
        except Exception as error:  # not ready: say why, without a stack trace
            return problem_response(503, "Not ready.", repr(error), code="not-ready")
        return report

    return router


def command_context(principal: Principal) -> CommandContext:
    """Who is acting, for the envelopes of the events this request produces (and, through `access`,
    for the access-log records of what it writes)."""
    trace_id = correlation_id.get() or new_id()
    served = served_request.get()
    access = None
    if served is not None:
        access = AccessOperation(
            operation_id=new_id(),
            trace_id=trace_id,
            name=served.operation_name,
            kind=WRITE,
            service=served.service,
            agency=principal.agency,
            client_id=principal.client_id,
            processing_activity="",  # per event: its type (UnitOfWork.commit)
            legal_basis="",  # per event: its legal basis
        )
    return CommandContext(actor=principal.actor, correlation_id=trace_id, access=access)


def parse_if_match(value: str | None) -> int | None:
    """The stream version named by an `If-Match: "<version>"` header (weak tags accepted)."""
    if value is None or value.strip() == "*":
        return None
    tag = value.strip().removeprefix("W/").strip('"')
    if not tag.isdigit():
        raise Problem(400, 'If-Match must be an ETag this API issued, such as "3".', code="invalid-if-match")
    return int(tag)
