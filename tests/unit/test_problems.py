"""RFC 9457 problem responses: one mapping from domain errors to HTTP, installed on a real resolver."""

from __future__ import annotations

import io
import json
import uuid

import pytest
from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

from eservices_core.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidInput,
    InvalidParam,
    NotFound,
    ServiceUnavailable,
    Unauthenticated,
)
from eservices_core.problems import (
    PROBLEM_CONTENT_TYPE,
    install_problem_handlers,
    problem_body,
    problem_response,
)
from local_runtime.functions import LambdaContext
from tests.support.events import http_event, json_body

ERRORS = [
    (InvalidInput("limit must be an integer"), 400, "invalid-input"),
    (Unauthenticated("no token"), 401, "unauthenticated"),
    (Forbidden("no commission on this unit"), 403, "forbidden"),
    (NotFound("no such clinic"), 404, "not-found"),
    (Conflict("the time is already booked"), 409, "conflict"),
    (ServiceUnavailable("the register is throttling", retry_after=7), 503, "service-unavailable"),
    (DomainError("something broke"), 500, "internal-error"),
]
ERROR_IDS = [code for _, _, code in ERRORS]


@pytest.mark.parametrize(("error", "status", "code"), ERRORS, ids=ERROR_IDS)
def test_problem_body_carries_status_type_code_title_and_detail(error, status, code):
    body = problem_body(error, instance="/clinics/x")

    assert body["status"] == status
    assert body["code"] == code
    assert body["type"] == f"urn:eservices:problem:{code}"
    assert body["title"] == type(error).title
    assert body["title"]
    assert body["detail"] == error.detail
    assert body["instance"] == "/clinics/x"


@pytest.mark.parametrize(("error", "status", "code"), ERRORS, ids=ERROR_IDS)
def test_problem_response_is_problem_json_with_the_error_status(error, status, code):
    response = problem_response(error)

    assert response.status_code == status
    assert response.headers["Content-Type"] == PROBLEM_CONTENT_TYPE == "application/problem+json"
    body = json.loads(str(response.body))
    assert body["code"] == code
    assert "instance" not in body


def test_invalid_input_lists_every_offending_parameter():
    error = InvalidInput(
        "limit and near are wrong",
        [InvalidParam("limit", "must be an integer"), InvalidParam("near", "must be lat,lon")],
    )

    body = json.loads(str(problem_response(error).body))

    assert body["invalid_params"] == [
        {"name": "limit", "reason": "must be an integer"},
        {"name": "near", "reason": "must be lat,lon"},
    ]


def test_invalid_input_for_one_param_names_it():
    body = problem_body(InvalidInput.for_param("cursor", "is too long"))

    assert body["invalid_params"] == [{"name": "cursor", "reason": "is too long"}]
    assert body["detail"] == "cursor is too long"


def test_errors_other_than_invalid_input_have_no_invalid_params():
    assert "invalid_params" not in problem_body(NotFound("no such clinic"))
    assert "invalid_params" not in problem_body(InvalidInput("bad"))


def test_service_unavailable_tells_the_caller_when_to_retry():
    response = problem_response(ServiceUnavailable("throttled", retry_after=30))

    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"


def test_service_unavailable_retries_after_one_second_by_default():
    assert problem_response(ServiceUnavailable("throttled")).headers["Retry-After"] == "1"


@pytest.mark.parametrize(
    "error", [NotFound("x"), InvalidInput("x"), DomainError("x")], ids=["404", "400", "500"]
)
def test_only_service_unavailable_sends_retry_after(error):
    assert "Retry-After" not in problem_response(error).headers


def test_extensions_are_added_to_the_body():
    body = problem_body(Conflict("already booked", slot_id="s-1"))

    assert body["slot_id"] == "s-1"


def test_non_ascii_detail_survives_as_utf8_text():
    body = str(problem_response(NotFound("Vårdcentralen Åre finns inte")).body)

    assert "Vårdcentralen Åre" in body
    assert json.loads(body)["detail"] == "Vårdcentralen Åre finns inte"


# --- Installed on a real APIGatewayHttpResolver ------------------------------------------------

SECRET = "boom 811218-9876 at db.internal:5432"


@pytest.fixture
def log_stream():
    return io.StringIO()


@pytest.fixture
def app(log_stream):
    # A fresh service name per test: powertools configures a named logger's handler only once.
    app = APIGatewayHttpResolver()

    @app.get("/clinics/<clinic_id>")
    def read_clinic(clinic_id: str):
        raise NotFound(f"no clinic {clinic_id}")

    @app.get("/search")
    def search():
        raise InvalidInput.for_param("limit", "must be an integer from 1 to 100")

    @app.get("/crash")
    def crash():
        raise RuntimeError(SECRET)

    @app.get("/busy")
    def busy():
        raise ServiceUnavailable("the catalogue is throttling", retry_after=5)

    @app.get("/ok")
    def ok():
        return {"fine": True}

    install_problem_handlers(app, Logger(service=f"problems-{uuid.uuid4()}", stream=log_stream))
    return app


def call(app, method: str, path: str) -> dict:
    return app.resolve(http_event(method, path), LambdaContext("problems-test"))


def content_type(response: dict) -> str:
    return {k.lower(): v for k, v in response["headers"].items()}["content-type"]


def test_a_route_raising_not_found_answers_404_problem_with_the_path_as_instance(app):
    response = call(app, "GET", "/clinics/SE2321000016-A1B2")

    assert response["statusCode"] == 404
    assert content_type(response) == "application/problem+json"
    body = json_body(response)
    assert body["code"] == "not-found"
    assert body["detail"] == "no clinic SE2321000016-A1B2"
    assert body["instance"] == "/clinics/SE2321000016-A1B2"


def test_a_route_raising_invalid_input_answers_400_naming_the_parameter(app):
    response = call(app, "GET", "/search")

    assert response["statusCode"] == 400
    assert content_type(response) == "application/problem+json"
    body = json_body(response)
    assert body["code"] == "invalid-input"
    assert body["invalid_params"] == [{"name": "limit", "reason": "must be an integer from 1 to 100"}]


def test_an_unexpected_exception_answers_an_opaque_500(app, log_stream):
    response = call(app, "GET", "/crash")

    assert response["statusCode"] == 500
    assert content_type(response) == "application/problem+json"
    body = json_body(response)
    assert body["code"] == "internal-error"
    assert body["detail"] == "The request could not be completed"
    assert "boom" not in response["body"]
    assert "811218" not in response["body"]
    assert "db.internal" not in response["body"]
    assert "RuntimeError" not in response["body"]
    logged = log_stream.getvalue()
    assert "unhandled error" in logged and "RuntimeError" in logged, "the failure is logged for operators"
    assert "crash" in logged, "with where it was raised"
    assert "811218" not in logged and "boom" not in logged, "but never the message (rule 4)"


def test_service_unavailable_from_a_route_answers_503_with_retry_after(app, log_stream):
    response = call(app, "GET", "/busy")

    assert response["statusCode"] == 503
    assert response["headers"]["Retry-After"] == "5"
    assert json_body(response)["code"] == "service-unavailable"
    assert "service-unavailable" in log_stream.getvalue()


def test_an_unknown_route_answers_404_route_not_found(app):
    response = call(app, "GET", "/no/such/thing")

    assert response["statusCode"] == 404
    assert content_type(response) == "application/problem+json"
    body = json_body(response)
    assert body["code"] == "route-not-found"
    assert body["instance"] == "/no/such/thing"


def test_a_known_path_with_another_method_answers_route_not_found(app):
    response = call(app, "DELETE", "/ok")

    assert response["statusCode"] == 404
    assert json_body(response)["code"] == "route-not-found"


def test_a_route_that_succeeds_is_untouched_by_the_handlers(app):
    response = call(app, "GET", "/ok")

    assert response["statusCode"] == 200
    assert json_body(response) == {"fine": True}
