"""A simulated external booking system: clinics' own time books behind the national service platform.

Answers the four crm:scheduling operations the booking e-service's `ExternalScheduling` calls, as JSON over
HTTP: `POST /<Operation>` with a body that always names the clinic's HSA-ID as `logicalAddress`.

- `GetAvailableTimeslots` {healthcareFacility, timeTypeId, startDateInclusive, endDateInclusive} ->
  {"resultCode": "OK", "timeslots": [{timeslotId, startTimeInclusive, endTimeExclusive, healthcareFacility,
  timeTypeId, numberOfAvailable}]}, every timeslot starting in the range, earliest first; a full one is
  reported with numberOfAvailable 0.
- `MakeBooking` {healthcareFacility, timeTypeId, timeslotId, subjectOfCareId, externalReference} ->
  {"resultCode": "OK", "bookingId": ...} or ERROR TIMESLOT_UNAVAILABLE.
- `UpdateBooking` {bookingId, timeslotId} -> OK, or ERROR TIMESLOT_UNAVAILABLE / BOOKING_NOT_FOUND.
- `CancelBooking` {bookingId} -> OK or ERROR BOOKING_NOT_FOUND.

Business errors answer HTTP 200 with resultCode ERROR (as the service platform does); a malformed request
(not JSON, a missing or wrong field, an unknown operation) answers HTTP 400 with errorCode INVALID_REQUEST.
Each logical address is its own system: it holds only its own unit's timeslots and bookings. Every change
happens under one lock, so capacity holds under concurrent requests. The personal identity number is kept
with the booking (the clinic must know whom it books) and never logged.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

logger = logging.getLogger("local_runtime.scheduling")

OK, ERROR = "OK", "ERROR"
INVALID_REQUEST = "INVALID_REQUEST"
TIMESLOT_UNAVAILABLE = "TIMESLOT_UNAVAILABLE"
BOOKING_NOT_FOUND = "BOOKING_NOT_FOUND"
TIMESLOT_ID = re.compile(r"^[A-Za-z0-9_]{1,48}$")
SUBJECT_OF_CARE = re.compile(r"^\d{12}$")
MAX_BODY_BYTES = 64 * 1024


class InvalidRequest(ValueError):
    """The request is malformed: HTTP 400, errorCode INVALID_REQUEST (the reason is safe to show)."""


@dataclass
class Timeslot:
    timeslot_id: str
    unit: str
    booking_type: str
    start: datetime
    end: datetime
    capacity: int
    booked: int = 0

    @property
    def available(self) -> int:
        return max(self.capacity - self.booked, 0)

    def as_json(self) -> dict[str, Any]:
        return {
            "timeslotId": self.timeslot_id,
            "startTimeInclusive": _iso(self.start),
            "endTimeExclusive": _iso(self.end),
            "healthcareFacility": self.unit,
            "timeTypeId": self.booking_type,
            "numberOfAvailable": self.available,
        }


@dataclass
class Booking:
    booking_id: str
    logical_address: str
    unit: str
    booking_type: str
    timeslot_id: str
    subject_of_care_id: str
    external_reference: str


class SchedulingSimulator:
    """The simulated system, in memory; `start()` serves it on `url` (127.0.0.1, a free port by default)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host, self.port = host, port
        self._lock = threading.Lock()
        self._timeslots: dict[tuple[str, str], dict[str, Timeslot]] = {}
        self._bookings: dict[str, Booking] = {}
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.calls: list[str] = []  # the operations asked for, in order (names only)

    # ---- lifecycle -----------------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the scheduling simulator is not running")
        return f"http://{self.host}:{self._server.server_address[1]}"

    @property
    def is_running(self) -> bool:
        return self._server is not None

    def start(self) -> SchedulingSimulator:
        simulator = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                status, answer = simulator.handle(self.path, self.headers.get("content-length"), self.rfile)
                self._send(status, answer)

            def _refuse(self) -> None:
                self._send(400, _invalid("operations are called with POST"))

            do_GET = do_PUT = do_PATCH = do_DELETE = _refuse

            def _send(self, status: int, answer: dict[str, Any]) -> None:
                body = json.dumps(answer).encode()
                if status != 200:
                    self.close_connection = True  # a refused request's body may be left unread
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                logger.debug(format, *args)  # the request line: an operation name, never a body

        self._server = _Server((self.host, self.port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="scheduling-simulator", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving (a second call does nothing); what it holds stays readable."""
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    @contextmanager
    def running(self) -> Iterator[SchedulingSimulator]:
        self.start()
        try:
            yield self
        finally:
            self.stop()

    # ---- what the clinic's staff do in their own system, and what tests look at ------------------------------
    def add_timeslots(
        self,
        unit: str,
        booking_type: str,
        starts: Iterable[datetime],
        minutes: int,
        capacity: int = 1,
    ) -> list[str]:
        """Timeslots of `minutes` with `capacity` places from each (timezone-aware) start; their ids."""
        if minutes < 1 or capacity < 1:
            raise ValueError("minutes and capacity must be positive")
        added = []
        with self._lock:
            slots = self._timeslots.setdefault((unit, booking_type), {})
            for start in starts:
                if start.tzinfo is None:
                    raise ValueError("timeslot starts must carry a time zone")
                timeslot_id = f"TS{uuid.uuid4().hex[:16]}"
                start = start.astimezone(UTC)
                slots[timeslot_id] = Timeslot(
                    timeslot_id, unit, booking_type, start, start + timedelta(minutes=minutes), capacity
                )
                added.append(timeslot_id)
        return added

    def timeslots(self, unit: str, booking_type: str) -> list[dict[str, Any]]:
        """The unit's timeslots of a type, earliest first, as GetAvailableTimeslots shows them."""
        with self._lock:
            slots = sorted(self._timeslots.get((unit, booking_type), {}).values(), key=_start_and_id)
            return [s.as_json() for s in slots]

    def bookings(self) -> list[dict[str, Any]]:
        """Every booking held now (cancelled ones are gone), with the fields the platform sent."""
        with self._lock:
            return [asdict(b) for b in self._bookings.values()]

    # ---- the operations ----------------------------------------------------------------------------------------
    def handle(self, path: str, length: str | None, stream: Any) -> tuple[int, dict[str, Any]]:
        """One HTTP request: (status, answer)."""
        name = path.split("?", 1)[0].lstrip("/")
        try:
            operation = self._operations.get(name)
            if operation is None:
                raise InvalidRequest("unknown operation")
            body = _body(length, stream)
            with self._lock:
                self.calls.append(name)
                answer = operation(body)
        except InvalidRequest as error:
            logger.info("scheduling simulator: invalid request (%s)", error)
            return 400, _invalid(str(error))
        logger.debug(
            "scheduling simulator: %s %s %s", name, answer["resultCode"], answer.get("errorCode", "")
        )
        return 200, answer

    @property
    def _operations(self) -> dict[str, Callable[[dict[str, Any]], dict[str, Any]]]:
        return {
            "GetAvailableTimeslots": self._available_timeslots,
            "MakeBooking": self._make_booking,
            "UpdateBooking": self._update_booking,
            "CancelBooking": self._cancel_booking,
        }

    def _available_timeslots(self, body: dict[str, Any]) -> dict[str, Any]:
        address, unit = _text(body, "logicalAddress"), _text(body, "healthcareFacility")
        booking_type = _text(body, "timeTypeId")
        first, last = _instant(body, "startDateInclusive"), _instant(body, "endDateInclusive")
        if first > last:
            raise InvalidRequest("startDateInclusive is after endDateInclusive")
        slots = self._slots_at(address, unit, booking_type)
        found = sorted((s for s in slots.values() if first <= s.start <= last), key=_start_and_id)
        return {"resultCode": OK, "timeslots": [s.as_json() for s in found]}

    def _make_booking(self, body: dict[str, Any]) -> dict[str, Any]:
        address, unit = _text(body, "logicalAddress"), _text(body, "healthcareFacility")
        booking_type, timeslot_id = _text(body, "timeTypeId"), _text(body, "timeslotId", TIMESLOT_ID)
        subject = _text(body, "subjectOfCareId", SUBJECT_OF_CARE)
        reference = _text(body, "externalReference")
        slot = self._slots_at(address, unit, booking_type).get(timeslot_id)
        if slot is None or slot.available == 0:
            return _error(TIMESLOT_UNAVAILABLE)
        slot.booked += 1
        booking = Booking(
            f"B{uuid.uuid4().hex[:16]}", address, unit, booking_type, timeslot_id, subject, reference
        )
        self._bookings[booking.booking_id] = booking
        return {"resultCode": OK, "bookingId": booking.booking_id}

    def _update_booking(self, body: dict[str, Any]) -> dict[str, Any]:
        address, booking_id = _text(body, "logicalAddress"), _text(body, "bookingId")
        timeslot_id = _text(body, "timeslotId", TIMESLOT_ID)
        booking = self._bookings.get(booking_id)
        if booking is None or booking.logical_address != address:
            return _error(BOOKING_NOT_FOUND)
        slots = self._timeslots.get((booking.unit, booking.booking_type), {})
        new = slots.get(timeslot_id)
        if timeslot_id == booking.timeslot_id:
            return {"resultCode": OK}
        if new is None or new.available == 0:
            return _error(TIMESLOT_UNAVAILABLE)
        new.booked += 1
        old = slots.get(booking.timeslot_id)
        if old is not None:
            old.booked -= 1
        booking.timeslot_id = timeslot_id
        return {"resultCode": OK}

    def _cancel_booking(self, body: dict[str, Any]) -> dict[str, Any]:
        address, booking_id = _text(body, "logicalAddress"), _text(body, "bookingId")
        booking = self._bookings.get(booking_id)
        if booking is None or booking.logical_address != address:
            return _error(BOOKING_NOT_FOUND)
        del self._bookings[booking_id]
        slot = self._timeslots.get((booking.unit, booking.booking_type), {}).get(booking.timeslot_id)
        if slot is not None:
            slot.booked -= 1
        return {"resultCode": OK}

    def _slots_at(self, address: str, unit: str, booking_type: str) -> dict[str, Timeslot]:
        """The system at `address` holds only its own unit's times."""
        return self._timeslots.get((unit, booking_type), {}) if address == unit else {}


def _body(length: str | None, stream: Any) -> dict[str, Any]:
    try:
        size = int(length or "")
    except ValueError:
        raise InvalidRequest("a JSON body with Content-Length is required") from None
    if not 0 < size <= MAX_BODY_BYTES:
        raise InvalidRequest(f"the body must be 1 to {MAX_BODY_BYTES} bytes")
    try:
        body = json.loads(stream.read(size))
    except ValueError:
        raise InvalidRequest("the body is not JSON") from None
    if not isinstance(body, dict):
        raise InvalidRequest("the body must be a JSON object")
    return body


def _text(body: dict[str, Any], name: str, pattern: re.Pattern[str] | None = None) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip() or len(value) > 200:
        raise InvalidRequest(f"{name} is required")
    if pattern is not None and not pattern.match(value):
        raise InvalidRequest(f"{name} is malformed")  # the value itself is never echoed (a personnummer)
    return value


def _instant(body: dict[str, Any], name: str) -> datetime:
    value = _text(body, name)
    try:
        instant = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidRequest(f"{name} must be an ISO 8601 instant") from None
    if instant.tzinfo is None:
        raise InvalidRequest(f"{name} must carry a time zone")
    return instant.astimezone(UTC)


def _iso(instant: datetime) -> str:
    return instant.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _start_and_id(slot: Timeslot) -> tuple[datetime, str]:
    return slot.start, slot.timeslot_id


def _error(code: str) -> dict[str, Any]:
    return {"resultCode": ERROR, "errorCode": code}


def _invalid(reason: str) -> dict[str, Any]:
    return {"resultCode": ERROR, "errorCode": INVALID_REQUEST, "message": reason}


class _Server(ThreadingHTTPServer):
    """A listen backlog like a real system's: socketserver's default of 5 resets a burst of bookings."""

    request_queue_size = 1024
