"""The inbox burst (issue 7's acceptance test), end to end through the local runtime.

A simulated national quality registry puts 10,000 messages on InboxDeliveryQueue from several threads in
batches of ten (send_message_batch): 9,450 distinct messages to 500 residents registered through the
population register queue, 500 redeliveries of messages it had already sent and 50 malformed ones (a sender
without HSA-ID, a system never registered, a system deactivated with the operator command, not JSON, a
recipient nobody knows, an invalid identity number, a category the contract lacks). 50 of the residents
saved and verified a mobile number through the API (the code read back from /dev/notifications.json), 20
saved one and never typed the code in.

Then: exactly the 9,450 distinct messages are stored, each once, in its recipient's inbox (every inbox
counted in the InboxTable, a sample read through the API); the 50 malformed ones, and nothing else, are in
the DLQ, each with its reason; every verified resident got exactly one SMS for the burst, the generic
`texts.NOTICE_SMS`; nobody else got a notice; no SMS or e-mail carries a subject or a body; no log line
written during the run carries a recipient's personnummer.

Waiting: the coalescing window is 60 s and the runtime's scheduler runs the dispatcher every minute in real
time. Once every pending notification of the burst is due, the test invokes the dispatcher itself through
the runtime's function runner (never while the scheduled run is under way) instead of waiting up to a
minute more for the schedule.

Duration on the project's two-core machine: about 4.5 minutes (the runtime's start, the 10,000 messages stored
and collected in about 155 s, i.e. some 64 messages/s, the 62 s window, the checks), hence `slow`. The local
runtime is one Python process: the functions, the pollers and moto share one interpreter lock, and every AWS
call costs some 3-4 ms of CPU through botocore and moto's server. A message takes about one and a half: the
delivery's TransactWriteItems; per batch of ten, its PutEvents and outbox BatchWriteItem, the collector's two
BatchGetItems and the pollers' receives and deletes; the identity GetItem once per recipient. Deployed, up to
20 deliveries run at once. Before the moto corrections in local_runtime/moto_patches.py (sends and
GetQueueAttributes walked the whole queue) and long polling in the runtime's pollers, a like burst (1,000
recipients) took 887 s, 432 s of them to send it; before the collector read per batch, processing took 310 s.
"""

from __future__ import annotations

import io
import json
import logging
import random
import re
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

import pytest

from eservices_core.clock import today_stockholm
from eservices_core.dynamo import from_item
from eservices_core.identifiers import parse_personal_identity
from local_runtime import demo
from local_runtime.idp import resident_claims
from notifications import texts
from ops import sending_systems
from tests.support.aws import emulator_client, emulator_registry, queue_depth, send_to_population_register
from tests.support.http import RegisteredResident, get_json, send_json

if TYPE_CHECKING:
    from eservices_core.dynamo import Item

MESSAGES = 10_000  # what the registry puts on the queue
DUPLICATES = 500  # redeliveries of (system, message id) pairs it had sent already
MALFORMED = 50
VALID = MESSAGES - DUPLICATES - MALFORMED  # distinct messages, each to be stored once
RESIDENTS = 500
VERIFIED = 50  # saved and verified a mobile number
UNVERIFIED = 20  # saved a mobile number and never typed the code in
SENDER_THREADS = 4
REGISTRY = "demo-quality-registry"  # registered by the runtime at start, through ops.sending_systems
SCREENING = "demo-screening"  # also registered at start; reuses the registry's message ids
RETIRED = "burst-retired-registry"  # registered, then deactivated, with the operator command
REGISTRY_UNIT = {"care_unit_hsa_id": "SE2321000016-KVR9", "care_unit_name": "Kvalitetsregistret Burst"}
CATEGORIES = ("call-up", "result", "information", "vaccination", "reminder", "questionnaire")
SAMPLE = 12  # inboxes read through the API
PROCESSING_TIMEOUT = 900  # seconds for the whole burst to be processed (a failure says how far it got)
pytestmark = pytest.mark.slow  # minutes on a two-core machine (the module docstring says why)


@dataclass(frozen=True)
class Person(RegisteredResident):
    """A resident of the burst, with the mobile number they saved through the API, if any."""

    mobile: str | None = None


@dataclass
class Burst:
    people: list[Person]
    verified: list[Person]
    unverified: list[Person]
    valid: dict[tuple[str, str], dict[str, Any]]  # (system, message id) -> message
    malformed: list[tuple[str, str]]  # (body as sent, expected rejection reason)
    stored: list[dict[str, Any]]  # the InboxTable's message items after the run
    dead: list[dict[str, Any]]  # what the DLQ holds after the run
    sent: list[dict[str, Any]]  # /dev/notifications.json after the run
    sent_before: list[dict[str, Any]]  # ... before the burst (the verification codes)
    log: str  # every log line and print of the run
    outbox_left: int
    seconds: dict[str, float] = field(default_factory=dict)


def _eventually(check: Callable[[], Any], what: str, timeout: float, every: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while not (result := check()):
        assert time.monotonic() < deadline, f"{what}: not within {timeout:.0f} s"
        time.sleep(every)
    return result


def _sent(runtime: Any) -> list[dict[str, Any]]:
    status, body = get_json(runtime, "/dev/notifications.json")
    assert status == 200
    return list(body["items"])


# ---- the residents -------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def people(runtime) -> list[Person]:
    """500 adults with generated identities, through the population register queue; ready once the identity
    store knows every one of them."""
    today = today_stockholm()
    born = [demo.years_ago(today, 20 + i % 60, days=(11 * i) % 360) for i in range(RESIDENTS)]
    entries = [(demo.personnummer(b, 100 + i), f"Inkorg Demoburst {i:03d}") for i, b in enumerate(born)]
    assert len({pnr for pnr, _ in entries}) == RESIDENTS
    sqs, queue = send_to_population_register(runtime, entries)
    registry = emulator_registry(runtime)
    _eventually(lambda: queue_depth(sqs, queue) == 0, "the population register queue drained", 120, 0.5)
    found = {pnr: registry.patient_id_of(parse_personal_identity(pnr, today=today)) for pnr, _ in entries}
    assert all(found.values()), "every resident is known once the register's queue is drained"
    idp = runtime.idps["resident"]
    return [
        Person(pnr, name, str(found[pnr]), idp.issue(resident_claims(pnr, name))) for pnr, name in entries
    ]


def _save_mobile(runtime: Any, person: Person, index: int, *, verify: bool) -> Person:
    """The resident saves a mobile number and, if `verify`, types in the code the SMS brought."""
    number = f"+46709{index:06d}"
    path = f"/v1/patients/{person.patient_id}/notification-settings"
    auth = {"authorization": f"Bearer {person.token}"}
    status, saved = send_json(runtime, "PUT", path, {"mobile": number}, auth)
    assert status == 200 and saved["mobile"] == {"address": number, "verified": False}, saved
    if not verify:
        return Person(**{**person.__dict__, "mobile": number})

    def code() -> str | None:
        texts_to = [m["text"] for m in _sent(runtime) if m["to"] == number]
        return re.findall(r"\d{6}", texts_to[0])[0] if texts_to else None

    typed = _eventually(code, f"the code SMS to {number}", 30)
    body = {"channel": "mobile", "code": typed}
    status, answer = send_json(runtime, "POST", f"{path}/verification", body, auth)
    assert status == 200 and answer["mobile"] == {"address": number, "verified": True}, answer
    return Person(**{**person.__dict__, "mobile": number})


# ---- the registry's messages ---------------------------------------------------------------------------------------
def _valid_messages(people: list[Person], rng: random.Random) -> dict[tuple[str, str], dict[str, Any]]:
    """Every resident gets at least one; one in ten comes from the screening system, under a message id the
    registry uses too (another system's id is another message)."""
    messages = {}
    for k in range(VALID):
        system = SCREENING if k % 10 == 9 else REGISTRY
        message_id = f"b-{k // 10}" if system == SCREENING else f"b-{k}"
        recipient = people[k] if k < len(people) else rng.choice(people)
        messages[(system, message_id)] = {
            "message_id": message_id,
            "system_id": system,
            "sender": REGISTRY_UNIT,
            "recipient": recipient.personnummer,
            "category": CATEGORIES[k % len(CATEGORIES)],
            "subject": f"Enkät {k:05d} om din behandling",
            "body": f"Hej!\n\nHemligt innehåll {k:05d}: dina **värden** från registret.\n\n- punkt {k}",
            "replyable": k % 7 == 0,
            "sent_at": "2026-11-25T09:00:00+01:00",
        }
    return messages


def _malformed_messages(people: list[Person]) -> list[tuple[str, str]]:
    today = today_stockholm()
    template = {
        "system_id": REGISTRY,
        "sender": REGISTRY_UNIT,
        "recipient": people[0].personnummer,
        "category": "information",
        "subject": "Felaktigt meddelande",
        "body": "Detta meddelande ska aldrig lagras.",
        "replyable": False,
        "sent_at": "2026-11-25T09:00:00Z",
    }
    kinds: list[tuple[int, str, Callable[[int], Any]]] = [
        (10, "contract-violation", lambda n: {"sender": {"care_unit_name": "Utan HSA-id"}}),
        (5, "unknown-sending-system", lambda n: {"system_id": "burst-unknown-lab"}),
        (5, "unknown-sending-system", lambda n: {"system_id": RETIRED}),
        (8, "malformed-json", lambda n: f'{{"message_id": "bad-{n}", "system_id": "{REGISTRY}", '),
        (
            8,
            "unknown-recipient",
            lambda n: {"recipient": demo.personnummer(demo.years_ago(today, 50, days=n), 700 + n)},
        ),
        (7, "contract-violation", lambda n: {"category": "gossip"}),
        (
            7,
            "invalid-recipient",
            lambda n: {"recipient": (p := people[n].personnummer)[:-1] + str((int(p[-1]) + 1) % 10)},
        ),
    ]
    malformed: list[tuple[str, str]] = []
    for count, reason, change in kinds:
        for _ in range(count):
            n = len(malformed)
            changed = change(n)
            body = (
                changed
                if isinstance(changed, str)
                else json.dumps(template | {"message_id": f"bad-{n}"} | changed, ensure_ascii=False)
            )
            malformed.append((body, reason))
    assert len(malformed) == MALFORMED
    return malformed


def _stream(
    valid: dict[tuple[str, str], dict[str, Any]], malformed: list[tuple[str, str]], rng: random.Random
) -> list[str]:
    """All of it shuffled, each redelivery somewhere after its first delivery."""
    first = [json.dumps(m, ensure_ascii=False) for m in valid.values()] + [b for b, _ in malformed]
    rng.shuffle(first)
    keyed = [(float(i), body) for i, body in enumerate(first)]
    for i in rng.sample(range(len(first)), DUPLICATES * 2):
        if len(keyed) - len(first) == DUPLICATES:
            break
        if first[i].startswith('{"message_id": "b-'):  # a valid one: a redelivery of it
            keyed.append((rng.uniform(i + 0.5, len(first)), first[i]))
    assert len(keyed) == MESSAGES
    return [body for _, body in sorted(keyed, key=lambda pair: pair[0])]


def _send_burst(runtime: Any, bodies: list[str]) -> None:
    """The registry's senders: SENDER_THREADS threads, each its own client, batches of ten."""
    url = runtime.deployment.lookup("InboxDeliveryQueue", None)
    chunks = iter([bodies[i : i + 10] for i in range(0, len(bodies), 10)])
    lock = threading.Lock()

    def sender() -> None:
        sqs = emulator_client(runtime, "sqs")
        while True:
            with lock:
                chunk = next(chunks, None)
            if chunk is None:
                return
            result = sqs.send_message_batch(
                QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": b} for i, b in enumerate(chunk)]
            )
            assert not result.get("Failed"), result["Failed"]

    with ThreadPoolExecutor(SENDER_THREADS) as pool:
        for done in [pool.submit(sender) for _ in range(SENDER_THREADS)]:
            done.result()


# ---- what the runtime wrote while the burst ran ----------------------------------------------------------------------
class _Tee(io.TextIOBase):
    def __init__(self, target: Any, sink: io.StringIO, lock: threading.Lock) -> None:
        self.target, self.sink, self.lock = target, sink, lock

    def write(self, text: str) -> int:
        with self.lock:
            self.sink.write(text)
        return int(self.target.write(text) or 0)

    def flush(self) -> None:
        self.target.flush()


@contextmanager
def _captured_output(runtime: Any) -> Iterator[io.StringIO]:
    """Every line written through logging (every logger's stream handlers, and the root logger's records,
    formatted with their arguments and tracebacks) and to stdout/stderr (the functions' metrics) while the
    block runs. Every function's module is imported first, so each logger exists before capture starts."""
    for logical_id in runtime.deployment.template.functions:
        runtime.runner.handler(logical_id)
    sink, lock = io.StringIO(), threading.Lock()
    swapped: list[tuple[logging.StreamHandler[Any], Any]] = []
    loggers = [logging.getLogger(), *(logging.getLogger(n) for n in list(logging.root.manager.loggerDict))]
    for logger in loggers:
        for handler in logger.handlers:
            if isinstance(handler, logging.StreamHandler) and not isinstance(handler.stream, _Tee):
                swapped.append((handler, handler.setStream(_Tee(handler.stream, sink, lock))))
    recorder = logging.StreamHandler(_Tee(io.StringIO(), sink, lock))
    recorder.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logging.getLogger().addHandler(recorder)
    stdout, stderr = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _Tee(stdout, sink, lock), _Tee(stderr, sink, lock)
    try:
        yield sink
    finally:
        sys.stdout, sys.stderr = stdout, stderr
        logging.getLogger().removeHandler(recorder)
        for handler, stream in swapped:
            handler.setStream(stream)


def _dispatch_now(runtime: Any) -> None:
    """The dispatcher's scheduled run, now: invoked through the runner when the scheduler is not about to
    run it (two runs at once could both send one notification)."""
    [target] = [t for t in runtime.scheduler.targets if t.function == "NotificationDispatchFunction"]
    _eventually(
        lambda: (target.next_run - datetime.now(UTC)).total_seconds() > 10,
        "a moment away from the scheduled dispatcher run",
        75,
    )
    runtime.runner.invoke("NotificationDispatchFunction", {})


def _scan(runtime: Any, logical_id: str, prefix: str, key: str = "sk") -> list[dict[str, Any]]:
    client = emulator_client(runtime, "dynamodb")
    items = []
    for page in client.get_paginator("scan").paginate(
        TableName=runtime.deployment.lookup(logical_id, None),
        FilterExpression=f"begins_with({key}, :prefix)",
        ExpressionAttributeValues={":prefix": {"S": prefix}},
    ):
        items += [from_item(cast("Item", i)) for i in page["Items"]]
    return items


def _dead_letters(runtime: Any) -> list[dict[str, Any]]:
    sqs = emulator_client(runtime, "sqs")
    url = runtime.deployment.lookup("InboxDeliveryDeadLetterQueue", None)
    found: dict[str, Any] = {}
    while got := sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=600, MessageAttributeNames=["All"]
    ).get("Messages", []):
        found |= {m["MessageId"]: m for m in got}
    return list(found.values())


@pytest.fixture(scope="module")
def burst(runtime, people) -> Burst:
    started = time.monotonic()
    seconds: dict[str, float] = {}
    rng = random.Random(7)
    sqs = emulator_client(runtime, "sqs")
    queue = {
        name: runtime.deployment.lookup(name, None)
        for name in ("InboxDeliveryQueue", "NotificationEventsQueue", "NotificationSendQueue")
    }

    # An operator registers a registry and retires it again with the operator command (local endpoint).
    where = ["--endpoint-url", runtime.aws_url]
    assert sending_systems.main([*where, "register", RETIRED, "Avvecklat register (test)"]) == 0
    assert sending_systems.main([*where, "deactivate", RETIRED]) == 0
    inbox = sending_systems.store(
        emulator_client(runtime, "dynamodb"), runtime.deployment.lookup("InboxTable", None)
    )
    listed = {system["system_id"]: system["active"] for system in sending_systems.systems(inbox)}
    assert listed == dict.fromkeys(demo.SENDING_SYSTEMS, True) | {RETIRED: False}

    with ThreadPoolExecutor(10) as pool:
        chosen = list(enumerate(people[: VERIFIED + UNVERIFIED]))
        saved = list(
            pool.map(lambda ip: _save_mobile(runtime, ip[1], ip[0], verify=ip[0] < VERIFIED), chosen)
        )
    verified, unverified = saved[:VERIFIED], saved[VERIFIED:]
    _eventually(lambda: queue_depth(sqs, queue["NotificationSendQueue"]) == 0, "the codes sent", 30)
    sent_before = _sent(runtime)
    seconds["residents_and_settings"] = time.monotonic() - started

    valid = _valid_messages(people, rng)
    malformed = _malformed_messages(people)
    bodies = _stream(valid, malformed, rng)
    with _captured_output(runtime) as output:
        began = time.monotonic()
        _send_burst(runtime, bodies)
        seconds["sending"] = time.monotonic() - began

        def processed() -> bool:
            left = queue_depth(sqs, queue["InboxDeliveryQueue"])
            stored = runtime.runner.invocations["InboxDeliveryFunction"]
            elapsed = time.monotonic() - began
            assert elapsed < PROCESSING_TIMEOUT, (
                f"{left} messages left after {elapsed:.0f} s ({stored} batches)"
            )
            return left == 0 and queue_depth(sqs, queue["NotificationEventsQueue"]) == 0

        _eventually(processed, "the burst processed", PROCESSING_TIMEOUT + 10, every=2)
        seconds["processing"] = time.monotonic() - began
        drained_at = time.monotonic()
        # Every pending notification of the burst is due 60 s after its first event at the latest.
        time.sleep(max(0.0, drained_at + 62 - time.monotonic()))
        _dispatch_now(runtime)
        _eventually(lambda: queue_depth(sqs, queue["NotificationSendQueue"]) == 0, "the notices sent", 60)
        seconds["notified"] = time.monotonic() - began
    outbox_left = len(_scan(runtime, "InboxTable", "OUTBOX#", key="pk"))
    stored = _scan(runtime, "InboxTable", "MSG#")
    seconds["total"] = time.monotonic() - started
    return Burst(
        people=people,
        verified=verified,
        unverified=unverified,
        valid=valid,
        malformed=malformed,
        stored=stored,
        dead=_dead_letters(runtime),
        sent=_sent(runtime),
        sent_before=sent_before,
        log=output.getvalue(),
        outbox_left=outbox_left,
        seconds=seconds,
    )


# ---- the tests -------------------------------------------------------------------------------------------------------
def test_exactly_the_distinct_valid_messages_are_stored_once_each_in_the_right_inbox(runtime, burst, capsys):
    s = burst.seconds
    with capsys.disabled():
        print(
            f"\ninbox burst: {MESSAGES} messages ({VALID} distinct, {DUPLICATES} redeliveries, {MALFORMED} "
            f"malformed) to {RESIDENTS} residents: sent in {s['sending']:.1f} s, processed (stored and "
            f"collected for notification) in {s['processing']:.1f} s = {MESSAGES / s['processing']:.0f} "
            f"messages/s; notices sent {s['notified']:.1f} s after the first message; residents and "
            f"settings {s['residents_and_settings']:.1f} s; {s['total']:.1f} s in all"
        )
    ours = {p.patient_id: p for p in burst.people}
    stored = [m for m in burst.stored if m["patient_id"] in ours]
    pairs = Counter((m["system_id"], m["external_id"]) for m in stored)
    assert len(stored) == VALID, f"{len(stored)} stored, {VALID} expected"
    assert set(pairs) == set(burst.valid), "exactly the valid messages"
    assert max(pairs.values()) == 1, "each once, whatever the redeliveries"
    by_person = {p.personnummer: p.patient_id for p in burst.people}
    wrong = [
        m
        for m in stored
        if by_person[burst.valid[(m["system_id"], m["external_id"])]["recipient"]] != m["patient_id"]
    ]
    assert not wrong, f"{len(wrong)} messages in someone else's inbox"
    for m in stored[:50]:
        sent = burst.valid[(m["system_id"], m["external_id"])]
        assert (m["subject"], m["body"], m["category"]) == (sent["subject"], sent["body"], sent["category"])
        assert m["system_name"] in demo.SENDING_SYSTEMS.values()
    assert burst.outbox_left == 0, "every message's event reached the bus"


def test_residents_read_exactly_their_messages_through_the_api(runtime, burst):
    expected: dict[str, set[str]] = {}
    for message in burst.valid.values():
        expected.setdefault(message["recipient"], set()).add(message["subject"])
    sample = burst.verified[:4] + burst.unverified[:4] + burst.people[-(SAMPLE - 8) :]
    for person in sample:
        seen: list[str] = []
        cursor = ""
        while True:
            status, page = get_json(
                runtime,
                f"/v1/patients/{person.patient_id}/inbox?limit=100{cursor}",
                {"authorization": f"Bearer {person.token}"},
            )
            assert status == 200, page
            seen += [item["subject"] for item in page["items"]]
            if not page["next_cursor"]:
                break
            cursor = f"&cursor={page['next_cursor']}"
        assert len(seen) == len(set(seen)) and set(seen) == expected[person.personnummer], person.name


def test_the_malformed_and_only_they_are_in_the_dlq_each_with_its_reason(burst):
    assert len(burst.dead) == MALFORMED, f"{len(burst.dead)} in the DLQ"
    got = Counter((m["Body"], m["MessageAttributes"]["rejection_reason"]["StringValue"]) for m in burst.dead)
    assert got == Counter(burst.malformed)
    assert all(m["MessageAttributes"]["rejection_detail"]["StringValue"] for m in burst.dead)
    no_hsa = [m for m in burst.dead if '"Utan HSA-id"' in m["Body"]]
    assert len(no_hsa) == 10 and all(
        "care_unit_hsa_id" in m["MessageAttributes"]["rejection_detail"]["StringValue"] for m in no_hsa
    ), "rule 24: the missing sender HSA-ID is named"


def test_each_verified_resident_got_exactly_one_generic_sms_for_the_burst_and_nobody_else_any(burst):
    before = Counter(m["to"] for m in burst.sent_before)
    new = burst.sent[: len(burst.sent) - len(burst.sent_before)]  # newest first
    assert burst.sent[len(new) :] == burst.sent_before, "nothing sent before was lost or changed"
    notices = Counter(m["to"] for m in new)
    assert notices == Counter({p.mobile: 1 for p in burst.verified}), "one each, for the verified only"
    assert {(m["channel"], m["subject"], m["text"]) for m in new} == {("sms", "", texts.NOTICE_SMS)}
    for person in burst.unverified:
        assert before[person.mobile] == 1 and notices[person.mobile] == 0, "only the code, never a notice"


def test_no_sms_or_email_carries_a_subject_or_a_body(burst):
    code = re.compile(re.escape(texts.CODE_SMS).replace(re.escape("{code}"), r"\d{6}"))
    for m in burst.sent:
        assert m["text"] == texts.NOTICE_SMS or code.fullmatch(m["text"]), m["text"]
    contents = {m["subject"] for m in burst.valid.values()} | {
        line for m in burst.valid.values() for line in m["body"].splitlines() if line
    }
    leaked = [m for m in burst.sent for c in contents if c in m["text"] or c in m["subject"]]
    assert not leaked


def test_no_log_line_of_the_run_carries_a_personnummer(burst):
    numbers = {p.personnummer for p in burst.people} | {
        json.loads(b)["recipient"] for b, reason in burst.malformed if reason != "malformed-json"
    }
    forms = {f for n in numbers for f in (n[2:], f"{n[2:8]}-{n[8:]}")}  # the 12 digits contain the 10
    assert len(burst.log) > 1000, "the run's log lines were captured"
    found = [f for f in forms if f in burst.log]
    assert not found, f"{len(found)} personnummer in the log"
    assert "Hemligt innehåll" not in burst.log and "Enkät 0" not in burst.log, "nor a subject or body"
