"""Contract fuzzing (schemathesis) of every operation in the served OpenAPI document, against the
running local cloud over real HTTP: anonymous and as a signed-in user. Checks: no 5xx, statuses,
content types, headers and bodies conform to the document, bad input is rejected, and routes that
need a token refuse to work without one. Not checked: that every schema-valid request succeeds
(``positive_data_acceptance``): business rules no schema states (a common password, an event
that does not exist, a sold-out section) rightly refuse some. Bounded (FUZZ_EXAMPLES per operation and caller); the
seed is printed so a failure can be replayed: FUZZ_SEED=<seed> make test."""

from __future__ import annotations

import os
import random
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.concurrency.conftest import api_of, running_cloud

pytestmark = pytest.mark.local_cloud

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "8"))
SEED = int(os.environ.get("FUZZ_SEED") or random.randrange(2**32))
print(f"contract fuzzing: seed {SEED}, {EXAMPLES} examples per operation and caller (FUZZ_SEED, FUZZ_EXAMPLES)")


@pytest.fixture(scope="module")
def cloud():
    # No stream consumers: the fuzzer only needs the API, and they would compete for the cores.
    # Google sign-in on (else it is 503 GoogleSignInOff, a 5xx by design), its keys at a closed port:
    # the fuzzer's tokens are refused (401) without the network.
    google = {"GOOGLE_CLIENT_ID": "fuzz.apps.googleusercontent.com", "GOOGLE_JWKS_URL": "http://127.0.0.1:9/certs"}
    with running_cloud("dynamodb-local", args=["--poll-interval", "3600"], extra_env=google) as running:
        yield running


@pytest.fixture(scope="module")
def token(cloud) -> str:
    return api_of(cloud).register()[1]


def fuzz(cloud: Any, headers: dict[str, str] | None) -> list[str]:
    """Every operation of the served document, EXAMPLES cases each (its explicit example first):
    the failures, one line each (the operation, and what broke)."""
    schema = schemathesis.openapi.from_url(f"{cloud.url}/openapi.json")
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 80  # the whole document
    for operation in operations:

        @seed(SEED)
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        @given(case=operation.as_strategy())
        def check(case: Any) -> None:
            case.call_and_validate(base_url=cloud.url, headers=headers, excluded_checks=[positive_data_acceptance])

        try:
            check()
        except (Exception, BaseExceptionGroup) as e:  # a failed check: record it, go on with the others
            failures.append(f"{operation.method.upper()} {operation.path}: {str(e)[:1500]}")
    return failures


def test_every_operation_keeps_its_contract_anonymous(cloud):
    failures = fuzz(cloud, None)
    assert not failures, f"seed {SEED}:\n" + "\n\n".join(failures)


def test_every_operation_keeps_its_contract_signed_in(cloud, token):
    failures = fuzz(cloud, {"Authorization": f"Bearer {token}"})
    assert not failures, f"seed {SEED}:\n" + "\n\n".join(failures)
