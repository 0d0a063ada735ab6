"""The API keeps its published contract (issue 16, item 5): property-based requests drawn
from the OpenAPI schema by schemathesis, run in-process against the app (ASGI, no
network) as an administrator and as an anonymous visitor. No answer may be a 500, and
every answer's status, content type and body must be the ones the schema declares.

The example count is kept small so the file runs in about a minute on two cores; the
same checks run on DuckDB and PostgreSQL stores.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings

from dualcontrol.store import open_store
from dualcontrol.web import create_app
from dualcontrol.web.data import StoreData
from dualcontrol.web.demo_users import create_demo_users, demo_accounts
from dualcontrol.web.security import new_token, token_digest
from dualcontrol.web.settings import WebSettings
from dualcontrol.web.store_users import StoreUsers

pytestmark = pytest.mark.slow

PASSWORD = "correct horse battery"
#: Examples per operation and role: enough to reach every parameter's edges.
EXAMPLES = 12
#: A report file or a project can be schema-valid and still be refused with a 422 that
#: lists its problems (a CSV's rows, a quarter's spelling): that is not a contract breach.
BEYOND_THE_SCHEMA = [schemathesis.checks.positive_data_acceptance]


@pytest.fixture(scope="module")
def world(small_store_url: str):
    """The app on the small demo store and an administrator's bearer token."""
    store = open_store(small_store_url)
    data = StoreData(store)
    users = StoreUsers(store)
    create_demo_users(users, demo_accounts(data.hierarchy()), password=PASSWORD)
    token = new_token()
    users.add_token(
        username="demo-administrator",
        digest=token_digest(token),
        expires_at=datetime.now(UTC) + timedelta(hours=1),
    )
    settings_ = WebSettings(
        environment="test", secret_key="test-secret-0123456789", pdf_max_waiting=0
    )
    app = create_app(data=data, users=users, settings=settings_)
    yield {"app": app, "admin": {"Authorization": f"Bearer {token}"}}
    store.close()


@pytest.fixture(autouse=True)
def no_chromium(monkeypatch):
    """A PDF asked for is a tiny file, not a Chromium run."""
    from dualcontrol import bulletin as bulletin_mod

    def write_pdf(b, path, **kw):
        path.write_bytes(b"%PDF-1.4 fake")
        return path

    monkeypatch.setattr(bulletin_mod, "write_pdf", write_pdf)


def operations(app) -> list:
    """Return the API's operations as schemathesis reads them from the app's schema."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    return [result.ok() for result in schema.get_all_operations()]


@pytest.mark.parametrize("role", ["administrator", "anonymous"])
def test_api_keeps_its_contract(world, role) -> None:
    # schemathesis' pytest plugin does not run under pytest 9 yet: hypothesis directly
    headers = world["admin"] if role == "administrator" else {}
    failures = {}
    found = operations(world["app"])
    assert len(found) >= 15  # every API route is in the schema

    for operation in found:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case) -> None:
            case.call_and_validate(headers=headers, excluded_checks=BEYOND_THE_SCHEMA)

        try:
            check()
        except Exception as exc:  # every operation's failure, not only the first
            failures[operation.label] = f"{type(exc).__name__}: {str(exc)[:1500]}"
    assert not failures, "\n\n".join(f"{k}: {v}" for k, v in failures.items())


def test_errors_have_the_published_shapes(world) -> None:
    """The shapes schemathesis checks, one of each, named (so a change shows here)."""
    client = TestClient(world["app"])
    spec = client.get("/openapi.json").json()
    refused = client.get("/api/accounts?level=county")
    assert refused.status_code == 401 and set(refused.json()) == {"detail"}
    bad = client.get("/api/accounts?level=nowhere")
    assert bad.status_code == 422
    assert bad.json()["detail"][0] == {
        "field": "query.level",
        "message": bad.json()["detail"][0]["message"],
    }
    declared = spec["paths"]["/api/accounts"]["get"]["responses"]
    assert {"401", "403", "404", "413", "422"} <= set(declared)
    assert "HTTPValidationError" not in spec.get("components", {}).get("schemas", {})
