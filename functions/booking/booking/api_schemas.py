"""The shapes of what the booking API reads and answers, for its routes' `described` (openapi.json)."""

from __future__ import annotations

from booking.model import CATALOGUE
from booking.service import DEFAULT_RADIUS_KM, MAX_RADIUS_KM, MAX_TIMES_PER_REQUEST
from eservices_core.apidoc import (
    BILINGUAL,
    DATE,
    DATE_TIME,
    LIMIT,
    STRING,
    Link,
    Query,
    Schema,
    component,
    nullable,
    obj,
)

INTEGER: Schema = {"type": "integer"}
TYPE = {"enum": list(CATALOGUE)}
TIME_ID: Schema = {
    "type": "string",
    "maxLength": 200,
    "pattern": "^[A-Za-z0-9-]{1,40}~[a-z0-9-]{1,64}~[0-9]{8}T[0-9]{4}Z-[A-Za-z0-9_]{1,48}$",
    "description": "a time's id from a time search: clinic~booking type~time",
}
BOOKING_TYPE_FIELDS: dict[str, Schema] = {
    "booking_type": STRING,
    "name": BILINGUAL,
    "duration_minutes": INTEGER,
    "category": STRING,
}
BOOKING_TYPE = component("BookingType", obj(BOOKING_TYPE_FIELDS))
FREE_TIME = component(
    "FreeTime",
    obj(
        {
            "time_id": STRING,
            "booking_type": STRING,
            "start": DATE_TIME,
            "end": DATE_TIME,
            "free": INTEGER,
            "clinic": obj(
                {"id": STRING, "name": STRING, "region": nullable(STRING), "distance_km": {"type": "number"}},
                optional=("distance_km",),
            ),
        }
    ),
)
APPOINTMENT_FIELDS: dict[str, Schema] = {
    "appointment_id": STRING,
    "patient_id": STRING,
    "unit_hsa_id": STRING,
    "unit_name": STRING,
    "booking_type": STRING,
    "booking_type_name": nullable(BILINGUAL),
    "system": {"enum": ["built-in", "external"]},
    "status": {"enum": ["active", "cancelled"]},
    "booked_at": DATE_TIME,
    "booked_by": obj({"relation": STRING, "name": STRING}),
    "time_id": STRING,
    "start": DATE_TIME,
    "end": DATE_TIME,
    "rebooked_at": DATE_TIME,
    "cancelled_at": DATE_TIME,
}
OPTIONAL = ("rebooked_at", "cancelled_at")
APPOINTMENT = component("Appointment", obj(APPOINTMENT_FIELDS, optional=OPTIONAL))
STAFF_APPOINTMENT = component(
    "UnitAppointment", obj(APPOINTMENT_FIELDS | {"patient_name": STRING}, optional=OPTIONAL)
)
UNIT_APPOINTMENTS = obj(
    {
        "date": DATE,
        "items": {"type": "array", "items": STAFF_APPOINTMENT},
        "more": {"type": "boolean", "description": "more appointments than `limit` that day"},
    }
)
SETTINGS = component(
    "BookingSettings",
    obj(
        {
            "unit_hsa_id": STRING,
            "unit_name": STRING,
            "region": nullable(STRING),
            "lat": {"type": "number"},
            "lon": {"type": "number"},
            "booking_type": STRING,
            "active": {"type": "boolean"},
            "system": {"enum": ["built-in", "external"]},
            "deadline_hours": INTEGER,
            "horizon_days": INTEGER,
            "web": obj(
                {"book": {"type": "boolean"}, "rebook": {"type": "boolean"}, "cancel": {"type": "boolean"}}
            ),
            "max_active": INTEGER,
            "eligibility": obj(
                {
                    "min_age": nullable(INTEGER),
                    "max_age": nullable(INTEGER),
                    "regions": {"type": "array", "items": STRING},
                }
            ),
        }
    ),
)
UNIT_TYPES = obj(
    {"items": {"type": "array", "items": obj(BOOKING_TYPE_FIELDS | {"settings": nullable(SETTINGS)})}}
)
TIME = component(
    "BookableTime",
    obj(
        {
            "time_id": STRING,
            "start": DATE_TIME,
            "end": DATE_TIME,
            "capacity": INTEGER,
            "booked": INTEGER,
            "open": {"type": "boolean"},
        }
    ),
)
PUBLISHED = obj(
    {"created": INTEGER, "items": {"type": "array", "items": TIME, "description": "the first 100 created"}}
)

# ---- requests -----------------------------------------------------------------------------------------------
TIME_CHOICE = obj({"time_id": TIME_ID})
AGE = nullable({"type": "integer", "minimum": 0, "maximum": 130})
CONFIGURATION = {
    "type": "object",
    "description": "The unit's settings of a national booking type; what is left out (or null) takes its default "
    "(deadline 24 h, 72 h for specialist, psychiatric and rehabilitation units: rule 21).",
    "properties": {
        "active": {"type": "boolean", "default": True},
        "system": {"enum": ["built-in", "external"], "default": "built-in"},
        "deadline_hours": nullable({"type": "integer", "minimum": 0, "maximum": 14 * 24}),
        "horizon_days": nullable({"type": "integer", "minimum": 1, "maximum": 366, "default": 60}),
        "web": {
            "type": "object",
            "properties": {
                "book": {"type": "boolean", "default": True},
                "rebook": {"type": "boolean", "default": True},
                "cancel": {"type": "boolean", "default": True},
            },
        },
        "max_active": nullable({"type": "integer", "minimum": 1, "maximum": 10, "default": 1}),
        "eligibility": nullable(
            {
                "type": "object",
                "description": "rule 22: age on the day of the visit, regions of registration (null: anyone)",
                "properties": {
                    "min_age": AGE,
                    "max_age": AGE,
                    "regions": nullable(
                        {"type": "array", "items": {"type": "string", "pattern": "^[0-9]{2}$"}}
                    ),
                },
            }
        ),
    },
}
PUBLICATION = {
    "type": "object",
    "description": "One-off `starts` (ISO date-times; without an offset, Stockholm time) or a `recurrence`, "
    "each time as long as the type's visit, with `capacity` places; at most 1,000 times.",
    "properties": {
        "capacity": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 1},
        "starts": {
            "type": "array",
            "minItems": 1,
            "maxItems": MAX_TIMES_PER_REQUEST,
            "items": {"type": "string", "format": "date-time"},
        },
        "recurrence": obj(
            {
                "from": DATE,
                "to": DATE,
                "weekdays": {
                    "type": "array",
                    "items": {"type": "integer", "minimum": 1, "maximum": 7},
                    "default": [1, 2, 3, 4, 5],
                },
                "first_start": {"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$"},
                "last_start": {"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$"},
            },
            optional=("weekdays",),
        ),
    },
    "anyOf": [{"required": ["starts"]}, {"required": ["recurrence"]}],
}

# ---- query parameters -------------------------------------------------------------------------------------------
FROM = Query("from", DATE, "First day (default today).")
TIME_SEARCH = (
    Query("booking_type", TYPE, "The national booking type.", required=True),
    Query("clinic_id", {"type": "string", "pattern": "^[A-Za-z0-9-]{1,40}$"}, "Only this clinic's times."),
    Query(
        "region", {"type": "string", "pattern": "^[0-9]{2}$"}, "Only clinics of this region (county code)."
    ),
    FROM,
    Query("to", DATE, "Last day (default two weeks from `from`, at most 31 days after it)."),
    Query(
        "near",
        {"type": "string", "pattern": r"^-?[0-9]{1,2}(\.[0-9]+)?,-?[0-9]{1,3}(\.[0-9]+)?$"},
        "`lat,lon`: nearest clinics first.",
    ),
    Query(
        "radius_km",
        {"type": "integer", "minimum": 1, "maximum": MAX_RADIUS_KM, "default": DEFAULT_RADIUS_KM},
        "With `near`: the radius.",
    ),
    LIMIT,
    Query(
        "patient_id",
        {"type": "string"},
        "The patient the caller acts for: only times that patient may book, by their age and region "
        "(empty or left out: every free time).",
    ),
)
APPOINTMENT_STATUS = Query(
    "status", {"enum": ["active", "cancelled", "all"], "default": "active"}, "Which appointments."
)
UNIT_TIMES = (FROM, Query("to", DATE, "Last day (default six days after `from`, at most 62 days after it)."))
UNIT_APPOINTMENT_QUERY = (
    Query("date", DATE, "The day (default today, Stockholm)."),
    Query("booking_type", STRING, "Only this booking type (one not set up at the unit: none)."),
    Query("limit", {"type": "integer", "minimum": 1, "maximum": 500, "default": 100}, "At most this many."),
)
TYPE_ID = {**TYPE, "description": "a national booking type (GET /v1/booking-types)"}
PATIENT = "$request.path.patientId"
FOUND = (Link("Book", "booking_book", body={"time_id": "$response.body#/items/0/time_id"}),)
BOOKED = tuple(
    Link(name, operation, {"patientId": PATIENT, "appointmentId": "$response.body#/appointment_id"})
    for name, operation in (
        ("Read", "booking_read_appointment"),
        ("Rebook", "booking_rebook"),
        ("Cancel", "booking_cancel"),
    )
)
LISTED = tuple(
    Link(name, operation, {"patientId": PATIENT, "appointmentId": "$response.body#/items/0/appointment_id"})
    for name, operation in (("Read", "booking_read_appointment"), ("Cancel", "booking_cancel"))
)
UNIT_TIME_LINKS = tuple(
    Link(name, operation, {"timeId": "$response.body#/items/0/time_id"})
    for name, operation in (("Close", "booking_close_time"), ("Open", "booking_open_time"))
)
