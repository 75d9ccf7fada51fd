"""Schemathesis against each service's published OpenAPI document: every operation is called with
generated requests (valid ones, and ones that break the schema in one place), with a token that may do
everything, and every answer must be no 5xx, a refusal (4xx) for a request that breaks the schema, and
exactly what the document says: a documented status, with the documented media type, body schema and
headers. Where one operation creates what another takes in its path, the state machine also calls them
in sequences: register a household, then read it back, pre-register it, identify and correct one of its
people. Schemathesis infers these links from the response schemas and path parameters (a `householdId`
in the 201 feeds `{household_id}`), so the document carries no hand-written `links` to keep in step.

Each service runs for real, in-process: `create_app(settings)` with its lifespan (migrations, token key
set, outbox relay and consumers) on a fresh PostgreSQL database of its own, as in production (PostgreSQL
refuses what SQLite lets through, such as U+0000 in text). Kafka is not needed: the outbox keeps the
events, and every answer comes from the service's own store.

The number of examples is bounded, and the generation derandomised so a run is reproducible and
`make test` cannot turn red on a new random draw: the point is to catch classes of mistakes (an unhandled
input, an undocumented answer) on every run, not to search exhaustively. Every failure it found so far
is fixed and has a plain regression test (tests/unit/test_bad_input.py, test_openapi_document.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck
from hypothesis import strategies as st
from schemathesis import APIOperation, BaseSchema, Case, CheckFunction, GenerationMode, Response
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.python.asgi import shutdown_lifespans
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    use_after_free,
)
from sqlalchemy.engine import make_url

from history.entrypoints.access import AFTER_PATTERN
from shared.auth import AGENCY_SCOPES
from tests.fixtures import MintToken, NewDatabase
from tests.helpers import SERVICE_DEFINITIONS, SERVICES, VAULT_TEST_KEY

pytestmark = pytest.mark.postgres

AnyCase = Case[Any]
Operation = APIOperation[Any, Any, Any, Any]

# What every answer must satisfy. Left out on purpose:
# - `ensure_resource_availability` expects what a command created to be readable by the very next
#   request. Within one service that happens to hold (each write side reads its own store), but the
#   chain does not promise it: the read side (history) applies facts from Kafka later, and commands say
#   so with X-Last-Event-Id for the reader's `?after=`. A check that assumes synchronous reads would
#   encode a promise the API does not make.
# - `positive_data_acceptance` expects a schema-valid request to succeed; a valid request for a case that
#   does not exist, or that a rule refuses (409), is rightly refused.
# - `ignored_auth` and the other security checks: tests/unit/test_every_route_refuses_bad_tokens.py sends
#   every route every kind of bad token, which covers more than a fuzzer's guesses.
CHECKS: list[CheckFunction] = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    negative_data_rejection,
]
# In a sequence, also: what an operation deleted stays gone (none deletes today; this guards the day
# one does).
STATEFUL_CHECKS: list[CheckFunction] = [*CHECKS, use_after_free]

EXAMPLES_PER_OPERATION = 5
STATEFUL_SCENARIOS = 5
# Whatever the generator draws, a test must not wait for a slow answer or complain that data is filtered
# out (strict request schemas reject much of what it tries first).
FUZZ_SETTINGS = hypothesis.settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
# One client that may do everything, so generated requests reach the routes behind every scope.
ALL_SCOPES = tuple(sorted({scope for scopes in AGENCY_SCOPES.values() for scope in scopes}))


@pytest.fixture(scope="module")
def service(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture(scope="module")
async def database_url(service: str, new_postgres_database: NewDatabase) -> str:
    url = await new_postgres_database(f"fuzz_{service}")
    # Commits need not wait for the disk here (a crash loses a throw-away database): the fuzzer sends
    # hundreds of commands, and on a busy machine the fsync per commit is most of its time.
    parsed = make_url(url)
    connection = await asyncpg.connect(
        user=parsed.username,
        password=parsed.password,
        host=parsed.host,
        port=parsed.port or 5432,
        database="postgres",
    )
    try:
        await connection.execute(f'ALTER DATABASE "{parsed.database}" SET synchronous_commit = off')
    finally:
        await connection.close()
    return url


@pytest.fixture(scope="module")
def api(
    service: str, database_url: str, tmp_path_factory: pytest.TempPathFactory, auth_dir: Path
) -> Iterator[BaseSchema]:
    """The service's OpenAPI document, loaded from the running app; Schemathesis starts the app's
    lifespan on its own event loop thread when it first calls it, and it is stopped again here."""
    _, create_app, settings_type = SERVICE_DEFINITIONS[service]
    vault: dict[str, Any] = {"vault_master_key": VAULT_TEST_KEY} if service == "intake" else {}
    settings = settings_type(
        service=service,
        data_dir=tmp_path_factory.mktemp(f"fuzz-{service}"),
        database_url=database_url,
        kafka_bootstrap_servers="127.0.0.1:9",  # nothing listens: the outbox keeps the events
        kafka_create_topics=False,
        auth_jwks_path=auth_dir / "jwks.json",
        environment="test",
        **vault,
    )
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(settings))
    try:
        yield schema
    finally:
        shutdown_lifespans()


@pytest.fixture(scope="module")
def authorization(token_for: MintToken) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for('AUDIT', scopes=ALL_SCOPES, municipality='GM0014')}"}


def without_waiting_for_made_up_events(case: AnyCase) -> None:
    """Leave out a well-formed `after` on the read side. It names events the answer must wait for (at
    most 5 s) and, when they are not applied by then, the answer is 503 `read-model-behind`: the
    documented read-your-writes answer of an eventually consistent read side, not an error. The
    fuzzer's made-up event ids are never applied, so each such request would wait out the 5 s only to
    get that 503. A malformed `after` stays in: it must be refused at once (400)."""
    after = (case.query or {}).get("after")
    if after is not None and str(after).strip(" ,") and re.fullmatch(AFTER_PATTERN, str(after)):
        del case.query["after"]


@pytest.mark.parametrize("service", SERVICES, indirect=True)
def test_every_operation_answers_as_documented(api: BaseSchema, authorization: dict[str, str]) -> None:
    # every operation the service documents (so one added tomorrow is fuzzed tomorrow), each on its own:
    # a failure in one does not hide another's
    failures = []
    operations: list[Operation] = []
    for result in api.get_all_operations():
        if isinstance(result, Ok):
            operations.append(result.ok())
        else:
            failures.append(f"an operation Schemathesis cannot read: {result.err()}")
    assert len(operations) > 5, "the document lists (almost) no operations: the loading is broken"
    for operation in operations:
        try:
            fuzz(operation, authorization)
        except Exception as failure:
            failures.append(f"{operation.label}: {failure}")
    assert not failures, "\n\n".join(failures)


def fuzz(operation: Operation, authorization: dict[str, str]) -> None:
    # valid requests, and requests that break the schema in one place (those must be refused with a 4xx)
    requests = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE)
    )

    @FUZZ_SETTINGS
    @hypothesis.given(requests)
    def answers_as_documented(case: AnyCase) -> None:
        without_waiting_for_made_up_events(case)
        case.call_and_validate(headers=authorization, checks=CHECKS)

    answers_as_documented()


# Sequences where an operation of the service's own API creates what others take in their path: intake
# (register a household, then read it, pre-register it, identify and correct its people) and placement
# (register a location, then read it, change its capacity, close it). Not applicable to the others:
# procedure's applications and return's cases are opened by reactions to other services' events (from
# Kafka), never by an operation of their own API, and history takes no commands at all; so no sequence
# of their operations creates anything a next one could use, and the fuzz above already covers them.
@pytest.mark.parametrize("service", ["intake", "placement"], indirect=True)
def test_linked_operations_answer_as_documented_in_sequence(
    api: BaseSchema, authorization: dict[str, str]
) -> None:
    machine = api.as_state_machine()

    class Sequences(machine):  # type: ignore[misc, valid-type]
        def get_call_kwargs(self, case: AnyCase) -> dict[str, Any]:
            without_waiting_for_made_up_events(case)
            return {"headers": authorization}

        def validate_response(
            self,
            response: Response,
            case: AnyCase,
            additional_checks: list[CheckFunction] | None = None,
            **kwargs: Any,
        ) -> None:
            case.validate_response(response, checks=STATEFUL_CHECKS, headers=authorization)

    Sequences.run(
        settings=hypothesis.settings(FUZZ_SETTINGS, max_examples=STATEFUL_SCENARIOS, stateful_step_count=6)
    )
