"""Property-based tests of the REST API against its own OpenAPI schema (schemathesis).

Requests generated from the schema go to the app in-process, with the real models; URLs are
never fetched (every host is refused before any lookup). Whatever the request, the API must
answer without a server error, with a documented status and a body that follows the schema.
A request the schema allows may still be refused for what it says (an HTML page without an
article, a text in an unknown encoding): the schema cannot tell, so that check is left out.
Nor can a multipart upload break the schema's types: a file part is bytes, whatever a "number"
generated for it looks like, so the file upload's negative cases are not expected to fail.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from spinscope.errors import RefusedURLError
from spinscope.io import fetch
from spinscope.pipeline import Analyzer
from spinscope.shells.api import create_app

#: Requests generated per API operation.
EXAMPLES = 25

schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(analyzer=Analyzer()))


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    def refuse(host: str, allow_private: bool = False):
        raise RefusedURLError(f"Refusing to fetch {host!r} in the tests.")

    monkeypatch.setattr(fetch, "check_host", refuse)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_the_api_keeps_its_schema(case):
    excluded = [positive_data_acceptance]
    if case.media_type == "multipart/form-data":
        excluded.append(negative_data_rejection)
    case.call_and_validate(excluded_checks=excluded)


def test_the_schema_says_exactly_one_source_is_required():
    request = schema.raw_schema["components"]["schemas"]["AnalyzeRequest"]
    assert [branch["required"] for branch in request["oneOf"]] == [["text"], ["url"], ["html"]]
