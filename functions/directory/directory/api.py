"""Public directory API (no login): GET /v1/clinics and GET /v1/clinics/{clinicId}."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.utilities.typing import LambdaContext

from directory.config import ApiConfig
from directory.search import parse_search, run_search
from directory.service import get_clinic
from directory.store import DirectoryStore
from eservices_core import aws
from eservices_core.problems import install_problem_handlers
from eservices_core.wiring import composition_root

logger = Logger(service="directory")
app = APIGatewayHttpResolver()
install_problem_handlers(app, logger)
PUBLIC_CACHE = {"Cache-Control": "public, max-age=60"}


@composition_root
def store() -> DirectoryStore:
    return DirectoryStore(aws.dynamodb(), ApiConfig.from_env().table_name)


@app.get("/v1/clinics")
def search_clinics() -> Response[dict[str, Any]]:
    search = parse_search(app.current_event.raw_query_string)
    result = run_search(store(), search)
    body = {"items": result.items, "next_cursor": result.next_cursor}
    return Response(200, "application/json", body, headers=PUBLIC_CACHE)


@app.get("/v1/clinics/<clinic_id>")
def read_clinic(clinic_id: str) -> Response[dict[str, Any]]:
    return Response(200, "application/json", get_clinic(store(), clinic_id), headers=PUBLIC_CACHE)


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
