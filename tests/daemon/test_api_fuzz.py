"""A bounded property-based fuzz of the whole API against its served OpenAPI document.

Schemathesis reads the document the daemon serves, generates requests for every operation (valid
ones and ones that break the document on purpose), sends them over real HTTP to the daemon on
waitress, as an admin and as an artist, and checks every answer: never a server error, and the
status, content type, headers and body are what the document promises. The ``/users`` routes are
fuzzed with the rest; however the admin's calls demote or delete, one active admin remains.

The budget is a number of examples per operation (``FUZZ_EXAMPLES``, default 30), so the run is
bounded; ``CLOUDBURST_FUZZ_EXAMPLES=200`` runs a deeper one by hand.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.daemon.auth.world import NAMES, World, build_world
from tests.serving import serve

schemathesis = pytest.importorskip("schemathesis")
from schemathesis import APIOperation, GenerationMode  # noqa: E402
from schemathesis.core.errors import InvalidSchema  # noqa: E402
from schemathesis.core.failures import FailureGroup  # noqa: E402
from schemathesis.core.result import Ok  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

FUZZ_EXAMPLES = int(os.environ.get("CLOUDBURST_FUZZ_EXAMPLES", "30"))
CHECKS = [
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@dataclass
class Served:
    """The world's app served over real HTTP."""

    world: World
    url: str


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    """A farm of its own for each caller: one's changes never blunt the other's run."""
    world = build_world(tmp_path)
    accounts = {user.name: user.id for user in world.services.users.list_users()}
    world.extra["user_ids"] = {caller: accounts[name] for caller, name in NAMES.items()}
    with serve(world.app) as url:
        yield Served(world, url)


def operations(served: Served, failures: dict[str, str]) -> list[APIOperation]:
    """The operations of the served document; one it describes badly is a failure."""
    document = requests.get(f"{served.url}/api/v1/openapi.json", timeout=10).json()
    found = []
    for result in schemathesis.openapi.from_dict(document).get_all_operations():
        if isinstance(result, Ok):
            found.append(result.ok())
        else:
            failures[f"the document: {result.err()}"] = ""
    return found


def fuzz(served: Served, caller: str) -> dict[str, str]:
    """Every operation, ``FUZZ_EXAMPLES`` positive and negative cases each.

    Returns:
        Each kind of failure (operation, status, what broke) with its first example.
    """
    token = served.world.tokens[caller]
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    session = requests.Session()
    failures: dict[str, str] = {}
    base = served.url
    ids = {**served.world.path_params(), "user_id": served.world.extra["user_ids"][caller]}
    users = served.world.services.users
    # The accounts last: an admin run that demoted itself early would leave the rest untested.
    ordered = sorted(operations(served, failures), key=lambda op: "/users" in op.path)
    for operation in ordered:
        known = {
            p.name: ids[p.name] for p in operation.path_parameters if p.name in ids
        }  # fmt: skip
        try:
            strategy = st.one_of(
                operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
                operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
                # the farm's real objects, the caller's own account among them
                operation.as_strategy(generation_mode=GenerationMode.POSITIVE,
                                      path_parameters=known),
            )  # fmt: skip
        except InvalidSchema as bad:  # the document describes this operation badly
            failures[f"{operation.label}: {bad}"] = ""
            continue

        @settings(
            max_examples=FUZZ_EXAMPLES, deadline=None, database=None, derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )  # fmt: skip
        @given(case=strategy)
        def one(case: schemathesis.Case) -> None:
            response = case.call(base_url=base, session=session, headers=headers, timeout=30)
            if not any(u.role.value == "admin" and u.active for u in users.list_users()):
                failures.setdefault(
                    f"{case.operation.label} -> {response.status_code}: left no active admin",
                    f"{case.method} {case.formatted_path}: {case.body!r}"[:600],
                )
            if response.status_code >= 500:
                failures.setdefault(
                    f"{case.operation.label} -> {response.status_code}",
                    f"{case.method} {case.formatted_path}: {response.text[:300]}",
                )
                return
            try:
                case.validate_response(response, checks=CHECKS, headers=headers)
            except FailureGroup as broken:  # a broken promise of the document: collect them all
                for failure in broken.exceptions:
                    failures.setdefault(
                        f"{case.operation.label} -> {response.status_code}: {failure.title}",
                        f"{case.method} {case.formatted_path}: {failure.message}"[:600],
                    )

        try:
            one()
        except InvalidSchema as bad:  # the document describes this operation badly
            failures[f"{operation.label}: {bad}"] = ""
    return failures


@pytest.mark.parametrize("caller", ["admin", "artist"])
def test_every_operation_keeps_the_documents_promises(served: Served, caller: str) -> None:
    failures = fuzz(served, caller)
    report = "\n".join(f"{kind}\n    {example}" for kind, example in failures.items())
    assert not failures, f"{len(failures)} kind(s) of failure:\n{report}"
    users = served.world.services.users.list_users()
    assert any(u.role.value == "admin" and u.active for u in users), "no active admin is left"
