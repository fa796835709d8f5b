"""Public directory API (no login): GET /v1/clinics and GET /v1/clinics/{clinicId}."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.utilities.typing import LambdaContext

from directory import api_schemas as s
from directory.config import ApiConfig
from directory.search import parse_search, run_search
from directory.service import get_clinic
from directory.store import DirectoryStore
from eservices_core import aws
from eservices_core.apidoc import described, page_of
from eservices_core.problems import install_problem_handlers
from eservices_core.wiring import composition_root

logger = Logger(service="directory")
app = APIGatewayHttpResolver()
install_problem_handlers(app, logger)
PUBLIC_CACHE = {"Cache-Control": "public, max-age=60"}
CACHE_DOC = {"Cache-Control": "public, max-age=60: the directory is public"}


@composition_root
def store() -> DirectoryStore:
    return DirectoryStore(aws.dynamodb(), ApiConfig.from_env().table_name)


@app.get("/v1/clinics")
@described({200: page_of(s.CLINIC_SUMMARY)}, query=s.SEARCH, headers={200: CACHE_DOC})
def search_clinics() -> Response[dict[str, Any]]:
    """Find care units by name, region, municipality, kind, or nearest first from a point.

    Every offending parameter is named in one 400. A page may hold fewer than `limit` items while
    `next_cursor` is set: follow it until it is null."""
    search = parse_search(app.current_event.raw_query_string)
    result = run_search(store(), search)
    body = {"items": result.items, "next_cursor": result.next_cursor}
    return Response(200, "application/json", body, headers=PUBLIC_CACHE)


@app.get("/v1/clinics/<clinicId>")
@described({200: s.CLINIC}, path={"clinicId": s.CLINIC_ID}, headers={200: CACHE_DOC})
def read_clinic(clinicId: str) -> Response[dict[str, Any]]:
    """One care unit, with its provider, address and opening hours."""
    return Response(200, "application/json", get_clinic(store(), clinicId), headers=PUBLIC_CACHE)


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
