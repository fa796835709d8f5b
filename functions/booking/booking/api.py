"""Booking API: clinics set up booking types and publish times; residents find, book, rebook and cancel
them and see all their appointments. Patient data only through `patient_route` (policy + audit first)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.typing import LambdaContext

from booking import api_schemas as s
from booking.config import ApiConfig
from booking.model import BUILT_IN, CATALOGUE, EXTERNAL, REGION_CODE, UNIT_ID
from booking.scheduling import BuiltInScheduling, ExternalScheduling, SchedulingSystem
from booking.service import Booking, Search, day_param
from booking.store import BookingStore
from eservices_core import aws
from eservices_core.access import AccessGrant, Action, authorize, authorize_staff_many
from eservices_core.apidoc import described, items_of
from eservices_core.audit import Verb
from eservices_core.clock import stockholm_midnight, today_stockholm
from eservices_core.errors import InvalidInput
from eservices_core.outbox import Outbox
from eservices_core.requests import json_object, limit_param
from eservices_core.routing import RESIDENT, EServiceResolver, access_services
from eservices_core.table import Table
from eservices_core.wiring import composition_root

logger = Logger(service="booking")
app = EServiceResolver(logger)

READ_APPOINTMENTS = Action(Verb.READ, "appointments")
WRITE_APPOINTMENTS = Action(Verb.WRITE, "appointments")
MANAGE_TIMES = Action(Verb.WRITE, "bookable-times")
READ_TIMES = Action(Verb.READ, "bookable-times")
ADMINISTER = Action(Verb.WRITE, "booking-types", staff_role="local-administrator")
APPOINTMENTS = "/v1/patients/<patientId>/appointments"
HIDDEN = {
    "pk",
    "sk",
    "unit_pk",
    "unit_sk",
    "active_sk",
    "remind_pk",
    "remind_sk",
    "external_booking_id",
    "patient_name",
}


@composition_root
def _booking() -> Booking:
    config = ApiConfig.from_env()
    client = aws.dynamodb()
    table = Table(client, config.table_name, busy_message="The booking service is busy")
    store = BookingStore(table)
    systems: dict[str, SchedulingSystem] = {BUILT_IN: BuiltInScheduling(store)}
    if config.scheduling_platform_url:
        systems[EXTERNAL] = ExternalScheduling(config.scheduling_platform_url)
    return Booking(
        store=store,
        directory=Table(client, config.directory_table_name),
        systems=systems,
        outbox=Outbox.to_event_bus(table, aws.Lazy(aws.events)),  # made on the first write, not every start
        event_bus_name=config.event_bus_name,
    )


def _query() -> dict[str, str]:
    return dict(app.current_event.query_string_parameters or {})


def _json(status: int, body: Any, location: str | None = None) -> Response[str]:
    headers = {"Location": location} if location else {}
    return Response(
        status_code=status, content_type="application/json", body=json.dumps(body), headers=headers
    )


def appointment_view(appointment: dict[str, Any], *, staff: bool = False) -> dict[str, Any]:
    view = {k: v for k, v in appointment.items() if k not in HIDDEN or (staff and k == "patient_name")}
    kind = CATALOGUE.get(appointment["booking_type"])
    view["booking_type_name"] = kind.name if kind else None
    return view


# ---- residents -------------------------------------------------------------------------------------------------
@app.get("/v1/booking-types")
@described({200: items_of(s.BOOKING_TYPE)}, storage=False)
def booking_types() -> dict[str, Any]:
    """The national booking types, searchable across every clinic."""
    app.resident()
    return {"items": [t.summary() for t in CATALOGUE.values()]}


@app.get("/v1/times")
@described({200: items_of(s.FREE_TIME)}, query=s.TIME_SEARCH, problems=(404,), links={200: s.FOUND})
def find_times() -> dict[str, Any]:
    """Free times of `booking_type`: by `clinic_id`, `region`, `from`/`to` (dates), nearest first from
    `near=lat,lon` within `radius_km`; with `patient_id`, only times that patient may book."""
    resident = app.resident()
    query = _query()
    search = _search(query)
    if not query.get("patient_id"):
        return {"items": _booking().search(search, None)}
    grant = authorize(access_services().registry, resident, query["patient_id"], READ_APPOINTMENTS)
    found = _booking().search(search, grant.patient)
    app.audit(grant)  # the patient's age and region decided what is shown
    return {"items": found}


@app.patient_route("POST", APPOINTMENTS, action=WRITE_APPOINTMENTS, audience=RESIDENT)
@described(
    {201: s.APPOINTMENT, 200: s.APPOINTMENT},
    body=s.TIME_CHOICE,
    idempotency_key=True,
    problems=(403, 409),
    headers={201: {"Location": "the appointment"}, 200: {"Location": "the appointment"}},
    links={201: s.BOOKED, 200: s.BOOKED},
)
def book(grant: AccessGrant) -> Response[str]:
    """Book a time for the patient; 200 for a retry with the same Idempotency-Key.

    Refusals a client can act on: 409 `time-unavailable`, `already-booked`, `not-allowed-on-the-web`,
    `outside-booking-horizon`, `idempotency-key-reused`; 403 `not-eligible`."""
    key = app.current_event.headers.get("idempotency-key")
    appointment, created = _booking().book(grant, json_object(app.current_event.body), key)
    location = f"/v1/patients/{grant.patient_id}/appointments/{appointment['appointment_id']}"
    return _json(201 if created else 200, appointment_view(appointment), location)


@app.patient_route("GET", APPOINTMENTS, action=READ_APPOINTMENTS, audience=RESIDENT)
@described({200: items_of(s.APPOINTMENT)}, query=(s.APPOINTMENT_STATUS,), links={200: s.LISTED})
def list_appointments(grant: AccessGrant) -> dict[str, Any]:
    """All the patient's appointments at every clinic, in time order (rule 23); `status` active (default),
    cancelled or all."""
    return {"items": [appointment_view(a) for a in _booking().appointments(grant, _query().get("status"))]}


@app.patient_route("GET", f"{APPOINTMENTS}/<appointmentId>", action=READ_APPOINTMENTS, audience=RESIDENT)
@described({200: s.APPOINTMENT})
def read_appointment(grant: AccessGrant, appointmentId: str) -> dict[str, Any]:
    """One of the patient's appointments."""
    return appointment_view(_booking().appointment(grant, appointmentId))


@app.patient_route(
    "POST", f"{APPOINTMENTS}/<appointmentId>/rebooking", action=WRITE_APPOINTMENTS, audience=RESIDENT
)
@described({200: s.APPOINTMENT}, body=s.TIME_CHOICE, problems=(403, 409))
def rebook(grant: AccessGrant, appointmentId: str) -> dict[str, Any]:
    """Move an active appointment to another time of the same type at the same clinic, atomically."""
    return appointment_view(_booking().rebook(grant, appointmentId, json_object(app.current_event.body)))


@app.patient_route(
    "POST", f"{APPOINTMENTS}/<appointmentId>/cancellation", action=WRITE_APPOINTMENTS, audience=RESIDENT
)
@described({200: s.APPOINTMENT}, problems=(409,))
def cancel(grant: AccessGrant, appointmentId: str) -> dict[str, Any]:
    """Cancel an active appointment (within the clinic's deadline, rule 21)."""
    return appointment_view(_booking().cancel(grant, appointmentId))


# ---- clinics -----------------------------------------------------------------------------------------------------
@app.get("/v1/staff/booking-types")
@described({200: s.UNIT_TYPES})
def unit_booking_types() -> dict[str, Any]:
    """The national booking types with the unit's settings of each (null: not set up)."""
    _, commission, _ = app.commission(READ_TIMES)
    return _booking().unit_types(commission.care_unit_hsa_id)


@app.put("/v1/staff/booking-types/<typeId>")
@described({200: s.SETTINGS}, body=s.CONFIGURATION, path={"typeId": s.TYPE_ID}, problems=(409,))
def configure(typeId: str) -> dict[str, Any]:
    """Set up a national booking type for the unit (a `local-administrator` commission)."""
    _, commission, _ = app.commission(ADMINISTER)
    return _booking().configure(commission, typeId, json_object(app.current_event.body))


@app.post("/v1/staff/booking-types/<typeId>/times")
@described(
    {201: s.PUBLISHED},
    body=s.PUBLICATION,
    path={"typeId": s.TYPE_ID},
    problems=(409,),
    links={201: s.UNIT_TIME_LINKS},
)
def publish(typeId: str) -> Response[str]:
    """Publish bookable times of a type the unit has set up: one-off starts or a recurrence."""
    _, commission, _ = app.commission(MANAGE_TIMES)
    times = _booking().publish(commission, typeId, json_object(app.current_event.body))
    return _json(201, {"created": len(times), "items": [_time_view(t) for t in times[:100]]})


@app.get("/v1/staff/booking-types/<typeId>/times")
@described(
    {200: items_of(s.TIME)}, query=s.UNIT_TIMES, path={"typeId": s.TYPE_ID}, links={200: s.UNIT_TIME_LINKS}
)
def unit_times(typeId: str) -> dict[str, Any]:
    """The unit's times of a type, with their counts, from `from` to `to`."""
    _, commission, _ = app.commission(READ_TIMES)
    query = _query()
    first = day_param(query.get("from"), "from", today_stockholm())
    last = day_param(query.get("to"), "to", first + timedelta(days=6))
    if not first <= last <= first + timedelta(days=62):
        raise InvalidInput.for_param("to", "must be on or after from, at most 62 days later")
    times = _booking().unit_times(commission.care_unit_hsa_id, typeId, first, last)
    return {"items": [_time_view(t) for t in times]}


@app.post("/v1/staff/times/<timeId>/closure")
@described({200: s.TIME}, path={"timeId": s.TIME_ID})
def close_time(timeId: str) -> dict[str, Any]:
    """Close a time for booking (what is booked stays booked)."""
    _, commission, _ = app.commission(MANAGE_TIMES)
    return _time_view(_booking().set_open(commission, timeId, is_open=False))


@app.post("/v1/staff/times/<timeId>/opening")
@described({200: s.TIME}, path={"timeId": s.TIME_ID})
def open_time(timeId: str) -> dict[str, Any]:
    """Open a closed time for booking again."""
    _, commission, _ = app.commission(MANAGE_TIMES)
    return _time_view(_booking().set_open(commission, timeId, is_open=True))


@app.get("/v1/staff/appointments")
@described({200: s.UNIT_APPOINTMENTS}, query=s.UNIT_APPOINTMENT_QUERY)
def unit_appointments() -> dict[str, Any]:
    """Who booked what on `date` (default today) at the commission's unit. Each patient shown is an access
    to that patient's data: decided by the policy and written to the audit log before it is shown."""
    staff, commission, _ = app.commission(READ_APPOINTMENTS)
    query = _query()
    day = day_param(query.get("date"), "date", today_stockholm())
    items = _booking().unit_appointments(commission.care_unit_hsa_id, day, query.get("booking_type"))
    limit = limit_param(query, default=100, maximum=500)
    services, request_id = access_services(), app.current_event.request_context.request_id
    # The day's patients decided in one read and audited in one transaction (make bench: 26 round trips for
    # eight appointments one by one, 5 together). A patient no longer there (e.g. deceased and removed) is
    # not shown.
    grants = authorize_staff_many(
        services.registry, staff, [a["patient_id"] for a in items[:limit]], READ_APPOINTMENTS
    )
    shown = [a for a in items[:limit] if a["patient_id"] in grants]
    services.audit.append_many(
        [
            grants[a["patient_id"]].audit_entry(request_id, f"appointments/{a['appointment_id']}")
            for a in shown
        ]
    )
    return {
        "date": day.isoformat(),
        "items": [appointment_view(a, staff=True) for a in shown],
        "more": len(items) > limit,
    }


def _time_view(time: dict[str, Any]) -> dict[str, Any]:
    return {
        "time_id": "~".join((time["unit_hsa_id"], time["booking_type"], time["time_id"])),
        "start": time["start"],
        "end": time["end"],
        "capacity": time["capacity"],
        "booked": time["booked"],
        "open": time["open"],
    }


def _search(query: dict[str, str]) -> Search:
    booking_type = query.get("booking_type")
    if booking_type not in CATALOGUE:
        raise InvalidInput.for_param("booking_type", f"must be one of {', '.join(CATALOGUE)}")
    first = day_param(query.get("from"), "from", today_stockholm())
    last = day_param(query.get("to"), "to", first + timedelta(days=13))
    if not first <= last <= first + timedelta(days=31):
        raise InvalidInput.for_param("to", "must be on or after from, at most 31 days later")
    region = query.get("region")
    if region is not None and not REGION_CODE.match(region):
        raise InvalidInput.for_param("region", "must be a two-digit region code")
    clinic_id = query.get("clinic_id")
    if clinic_id is not None and not UNIT_ID.match(clinic_id):
        raise InvalidInput.for_param("clinic_id", "must be an HSA-ID")
    near = None
    if "near" in query:
        try:
            lat, lon = (float(part) for part in query["near"].split(","))
        except ValueError:
            raise InvalidInput.for_param("near", "must be latitude,longitude") from None
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise InvalidInput.for_param("near", "must be latitude,longitude")
        near = (lat, lon)
    radius = query.get("radius_km", "50")
    if not radius.isdigit() or not 1 <= int(radius) <= 200:
        raise InvalidInput.for_param("radius_km", "must be an integer from 1 to 200")
    return Search(
        booking_type=booking_type,
        first=stockholm_midnight(first),
        last=stockholm_midnight(last + timedelta(days=1)) - timedelta(seconds=1),
        clinic_id=clinic_id,
        region=region,
        near=near,
        radius_km=int(radius),
        limit=limit_param(query),
    )


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
