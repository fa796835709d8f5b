"""`make bench` (part 5): the inbox's delivery consumer and the notifications collector, per warm invocation.

- delivery: one SQS batch of ten messages through InboxDeliveryFunction (the event its event source sends),
  warm: handler time per batch (median, p95), the messages per second one invocation gets through, and the
  round trips per message (DynamoDB, EventBridge, SQS), for
  - ten new messages to recipients the container has seen (their patient ids are cached),
  - ten new messages to recipients it has not (one identity GetItem each: a cold cache),
  - five new messages and five redeliveries of stored ones,
  - ten refused messages (unknown system: each to the DLQ with its reason);
- collector: one batch of ten `inbox.message-received` events through NotificationCollectorFunction, round
  trips per event for adults without notification settings, adults with a verified mobile number (each a
  pending notification), and a child (6) whose two guardians may act for it (one of them verified).
In-process against a local moto server over HTTP, so each round trip includes a loopback HTTP exchange.
Figures go to stdout and benchmarks/results/inbox.json.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import json
import re
import statistics
import time
from collections import Counter
from collections.abc import Callable
from contextlib import ExitStack
from datetime import date
from typing import Any

from benchmarks.emulator import inbox_message_event, local_aws, write_results
from benchmarks.per_request import REQUESTS

SYSTEM = "bench-registry"
SERVICES = ("dynamodb", "events", "sqs")
BATCH = 10


def main() -> None:
    with local_aws("identity", "inbox", "notifications"):
        import boto3

        from local_runtime.provision import provision
        from local_runtime.template import Template
        from tests.support.aws import Stack

        stack = Stack(provision(Template(), boto3.session.Session()))
        delivery = _delivery(stack)
        collector = _collector(stack)
    figures = {"batches": REQUESTS, "batch_size": BATCH, "delivery": delivery, "collector": collector}
    write_results("inbox", figures, _print)


def _measure(invoke: Callable[[], Any], per: int = BATCH) -> dict[str, Any]:
    """`invoke` REQUESTS times (after one warm-up): time per batch and round trips per item, by service."""
    from tests.support.aws import count_calls

    with contextlib.redirect_stdout(io.StringIO()):  # the functions' metrics (EMF) lines
        invoke()
    times: list[float] = []
    trips: Counter[str] = Counter()
    operations: Counter[str] = Counter()
    for _ in range(REQUESTS):
        with ExitStack() as stack, contextlib.redirect_stdout(io.StringIO()):
            counted = {service: stack.enter_context(count_calls(service)) for service in SERVICES}
            started = time.perf_counter()
            result = invoke()
            times.append(time.perf_counter() - started)
        assert result == {"batchItemFailures": []}, result
        for service, calls in counted.items():
            trips[service] += len(calls)
            operations.update(f"{service}:{name}" for name in calls)
    median = statistics.median(times)
    return {
        "median_ms_per_batch": round(median * 1000, 2),
        "p95_ms_per_batch": round(statistics.quantiles(times, n=20)[-1] * 1000, 2),
        "items_per_second_per_invocation": round(per / median, 1),
        "round_trips_per_item": {s: round(trips[s] / (REQUESTS * per), 2) for s in SERVICES},
        "calls_per_batch": {k: round(n / REQUESTS, 2) for k, n in sorted(operations.items())},
    }


# ---- delivery ------------------------------------------------------------------------------------------------------
def _delivery(stack: Any) -> dict[str, Any]:
    from eservices_core.table import Table
    from inbox.store import InboxStore
    from tests.support.events import sqs_event
    from tests.support.people import World

    InboxStore(Table(stack.session.client("dynamodb"), stack.ref("InboxTable"))).register_system(
        SYSTEM, "Nationellt register (benchmark)"
    )
    world = World(stack, date.today())
    residents = [world.resident(f"Inkorg Demobänk {i}") for i in range(BATCH * 3)]
    arn = stack.arn("InboxDeliveryQueue")
    numbers = itertools.count()
    stored: list[str] = []

    def message(n: int, system: str = SYSTEM) -> str:
        return json.dumps(
            {
                "message_id": f"bench-{n}",
                "system_id": system,
                "sender": {"care_unit_hsa_id": "SE2321000016-B001", "care_unit_name": "Registret"},
                "recipient": residents[n % len(residents)].personnummer,
                "category": "result",
                "subject": f"Provsvar {n}",
                "body": "Hej!\n\nDitt **provsvar** är klart.\n\n- Värde 1\n- Värde 2",
                "replyable": False,
                "sent_at": "2026-11-25T09:00:00Z",
            }
        )

    def batch(*bodies: str) -> Any:
        return stack.invoke("InboxDeliveryFunction", sqs_event(list(bodies), arn))

    def new(count: int = BATCH) -> list[str]:
        bodies = [message(next(numbers)) for _ in range(count)]
        stored.extend(bodies)
        return bodies

    def forget_patient_ids() -> None:
        import inbox.delivery

        inbox.delivery._delivery()[0].registry._patient_ids.clear()

    def cold() -> Any:
        forget_patient_ids()
        return batch(*new())

    with contextlib.redirect_stdout(io.StringIO()):
        for _ in range(0, len(residents), BATCH):  # every recipient once: their ids are cached
            batch(*new())
    return {
        "10 new, recipients cached": _measure(lambda: batch(*new())),
        "10 new, recipients not cached": _measure(cold),
        "5 new + 5 redeliveries": _measure(lambda: batch(*new(5), *stored[-40:-35])),
        "10 refused (unknown system)": _measure(
            lambda: batch(*(message(next(numbers), "bench-unknown") for _ in range(BATCH)))
        ),
    }


# ---- collector -----------------------------------------------------------------------------------------------------
def _collector(stack: Any) -> dict[str, Any]:
    from local_runtime import captured
    from tests.support.events import sqs_event
    from tests.support.people import World

    world = World(stack, date.today())
    plain = [world.resident(f"Notis Demobänk {i}") for i in range(BATCH)]
    wanting = [world.resident(f"Notis Verifierad {i}") for i in range(BATCH)]
    guardian, other = world.resident("Förälder Demobänk"), world.resident("Förälder Två")
    child = world.resident("Barn Demobänk", age=6)
    world.family(guardian, other, children=[child])
    for n, person in enumerate([*wanting, guardian]):
        _verify_mobile(stack, world, person, f"+467091{n:05d}", captured)
    arn = stack.arn("NotificationEventsQueue")

    def events(patient_ids: list[str]) -> Any:
        bodies: list[str | dict[str, Any]] = [inbox_message_event(p) for p in patient_ids]
        return stack.invoke("NotificationCollectorFunction", sqs_event(bodies, arn))

    return {
        "10 adults, no settings": _measure(lambda: events([world.patient_id(p) for p in plain])),
        "10 adults, verified mobile": _measure(lambda: events([world.patient_id(p) for p in wanting])),
        "10 events of a child (6), 2 guardians": _measure(lambda: events([world.patient_id(child)] * BATCH)),
    }


def _verify_mobile(stack: Any, world: Any, person: Any, number: str, captured: Any) -> None:
    path = f"/v1/patients/{world.patient_id(person)}/notification-settings"
    status, saved = stack.call("PUT", path, token=world.token(person), body={"mobile": number})
    assert status == 200, saved
    stack.event_source("NotificationSenderFunction").drain()
    [code] = [re.findall(r"\d{6}", m.text)[0] for m in captured.sent() if m.to == number]
    status, answer = stack.call(
        "POST", f"{path}/verification", token=world.token(person), body={"channel": "mobile", "code": code}
    )
    assert status == 200 and answer["mobile"]["verified"], answer


def _print(report: dict[str, Any]) -> None:
    print(f"\nInbox delivery and notification collector, warm, batches of {report['batch_size']}\n")
    header = f"{'delivery (InboxDeliveryFunction)':40} {'median':>7} {'p95':>7} {'msgs/s':>7} {'ddb':>5} {'events':>6} {'sqs':>5}"
    print(header)
    for name, m in report["delivery"].items():
        _row(name, m)
    print(
        f"\n{'collector (NotificationCollectorFunction)':40} {'median':>7} {'p95':>7} {'evts/s':>7} {'ddb':>5} {'events':>6} {'sqs':>5}"
    )
    for name, m in report["collector"].items():
        _row(name, m)
    print(
        "(ms per batch of ten, in-process against a local moto server over HTTP; msgs/s and evts/s = ten / the "
        "median: what one invocation gets through; ddb/events/sqs = round trips per message or event)"
    )
    print("\ncalls per batch:")
    for part in ("delivery", "collector"):
        for name, m in report[part].items():
            calls = ", ".join(f"{k} {v:g}" for k, v in m["calls_per_batch"].items())
            print(f"  {name:40} {calls}")


def _row(name: str, m: dict[str, Any]) -> None:
    t = m["round_trips_per_item"]
    print(
        f"{name:40} {m['median_ms_per_batch']:7.1f} {m['p95_ms_per_batch']:7.1f} "
        f"{m['items_per_second_per_invocation']:7.1f} {t['dynamodb']:5.2f} {t['events']:6.2f} {t['sqs']:5.2f}"
    )


if __name__ == "__main__":
    main()
