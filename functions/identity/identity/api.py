"""GET /v1/me: the logged-in resident as the platform sees them."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.utilities.typing import LambdaContext

from eservices_core.actors import resident_from_claims
from eservices_core.config import require_int
from eservices_core.problems import install_problem_handlers

logger = Logger(service="identity")
app = APIGatewayHttpResolver()
install_problem_handlers(app, logger)


@app.get("/v1/me")
def me() -> dict[str, Any]:
    claims = app.current_event.request_context.authorizer.jwt_claim
    resident = resident_from_claims(claims, minimum_assurance=require_int("MINIMUM_RESIDENT_ASSURANCE"))
    return {
        "kind": "resident",
        "subject": resident.subject,
        "name": resident.name,
        "birth_date": resident.identity.birth_date.isoformat(),
        "assurance_level": resident.assurance_level,
    }


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
