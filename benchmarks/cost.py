"""`make bench` (part 8): what running the platform costs, per 1,000 resident interactions and per month at
national scale, from what benchmarks/functions.py metered and the prices in benchmarks/prices.json.

How it is built (every assumption is a named constant below, so it can be argued with and changed):
1. Every API operation's unit cost comes from its metered figures in results/functions.json: one HTTP API
   request and one Lambda invocation; Lambda duration estimated for AWS as the handler's own time (measured on
   a whole core here, scaled by CPU_SCALE for a 1,024 MB function's share of a vCPU) plus an assumed
   in-region latency per AWS call (LATENCY_MS); a share COLD_SHARE of invocations adds the measured cold
   start; DynamoDB read and write units as metered; the SQS, EventBridge, Step Functions, S3, SNS and SES
   requests it makes; its response size out to the internet; LOG_BYTES of CloudWatch Logs.
2. What an operation sets off later is added to it as flows: a sent case runs a Standard workflow
   (state transitions from results/cases.json, workflow tasks as observed), a case answer, an inbox message or
   a booking reminder becomes an event the notifications collector reads from its queue, and a share of those
   becomes an SMS or e-mail (sender function, SNS/SES).
3. VOLUMES says how often each kind of interaction happens nationally in a month: the three figures the
   design gives (12.5 M logins, 778 k cases sent, 771 k closed, 551 k staff logins) and assumptions for the
   rest. Each interaction kind is a list of operations (INTERACTIONS). The cost per 1,000 resident
   interactions divides the month's variable cost (staff work and background flows included) by the month's
   resident interactions; fixed monthly costs (schedules every minute, idle queue polling, keys, storage) are
   shown apart.
Output: a table on stdout and results/cost.json.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks/results"

# ---- assumptions about AWS, not measured here ----------------------------------------------------------------------
CPU_SCALE = 1769 / 1024  # Lambda gives a full vCPU at 1,769 MB; the functions have 1,024 MB
LATENCY_MS = {  # one call from Lambda to the service in the same region, typical
    "dynamodb": 5.0,
    "dynamodb:TransactWriteItems": 12.0,
    "dynamodb:BatchWriteItem": 8.0,
    "sqs": 8.0,
    "events": 15.0,
    "stepfunctions": 15.0,
    "s3": 15.0,
    "sns": 25.0,
    "ses": 30.0,
}
COLD_SHARE = 0.01  # of invocations that start a new execution environment
LOG_BYTES = 1000  # CloudWatch Logs per invocation: START/END/REPORT in JSON and the odd warning
HEADER_BYTES = 400  # response headers out to the internet, beside the body
SQS_CONSUMER_REQUESTS = (
    0.2  # per message: the event source's ReceiveMessage and DeleteMessageBatch, batches of 10
)
NOTIFIED_SHARE = (
    0.3  # of notifiable events (inbox message, first answer, reminder) reaching a verified channel
)
SMS_SHARE = 0.7  # of notices sent as SMS rather than e-mail
MEMORY_GB = 1.0  # every function has 1,024 MB (template Globals)
WORKFLOW_TASKS_PER_CASE = {"await": 2.0, "send_prescription": 0.25}  # task invocations of one case's run
# One reminder, as booking/sweeper.py sends it (not metered: no reminder was due during the benchmark): a
# transaction taking the appointment out of the Reminders index with its outbox event, the event, the outbox entry
# deleted.
REMINDER_CALLS = ("dynamodb:TransactWriteItems", "events:PutEvents", "dynamodb:BatchWriteItem")
REMINDER_UNITS = {"wru": 2 * (1 + 1) + 1 + 1, "events": 1.0}
QUEUE_POLLERS = 5  # Lambda's SQS event source polls each queue with about five long-polling connections
SQS_EVENT_SOURCES = 5  # queues with a Lambda event source in the template
KMS_KEYS = 2  # DataKey and the web client's key
KMS_REQUESTS_MONTH = 40 * 12 * 730  # 40 table/queue x principal pairs asking for a data key every 5 minutes
STORAGE_MONTHS = 12  # storage cost shown after a year of operation
# bytes kept per item, from the items the benchmark stored
STORED_BYTES = {
    "audit_record": 900,
    "case": 1500,
    "case_message": 300,
    "inbox_message": 900,
    "appointment": 800,
}

# ---- national volumes in a month ------------------------------------------------------------------------------------
VOLUMES = {  # (count a month, where it comes from)
    "login": (12_500_000, "design: 12.5 M logins a month (2.6 M unique)"),
    "case_sent": (778_071, "design: 778,071 new cases a month"),
    "case_closed": (771_604, "design: 771,604 closed cases a month"),
    "staff_login": (551_694, "design: 551,694 staff logins a month"),
    "inbox_message_read": (5_000_000, "assumed: 0.4 reads of a message per login"),
    "case_followed_up": (1_556_000, "assumed: a sent case is looked at twice more by the resident"),
    "case_reply": (311_000, "assumed: 0.4 resident replies per case"),
    "booking": (1_200_000, "assumed: 1.2 M web bookings a month (vaccination seasons higher)"),
    "cancellation": (240_000, "assumed: 20 % of bookings cancelled on the web"),
    "rebooking": (120_000, "assumed: 10 % of bookings moved on the web"),
    "public_search": (2_000_000, "assumed: 2 M clinic searches a month without logging in"),
    "access_log_read": (125_000, "assumed: 1 % of logins read their access log"),
    "settings_change": (100_000, "assumed: 100 k residents change their notification settings a month"),
    "inbox_message_delivered": (5_000_000, "assumed: 5 M messages from external systems a month"),
    "clinic_day_list": (
        11_374 * 21,
        "assumed: every active clinic lists its day's appointments once a weekday",
    ),
    "hsa_unit_change": (5_000, "assumed: 5 k care unit changes a month in the HSA feed"),
    "population_change": (200_000, "assumed: 200 k people changed a month (births, moves, deaths, names)"),
    "staff_change": (30_000, "assumed: 30 k employee or commission changes a month"),
}
RESIDENT_KINDS = (
    "login",
    "inbox_message_read",
    "case_sent",
    "case_followed_up",
    "case_reply",
    "booking",
    "cancellation",
    "rebooking",
    "public_search",
    "access_log_read",
    "settings_change",
)
CASES = "/v1/patients/{patientId}/cases"
STAFF_CASE = "/v1/staff/patients/{patientId}/cases/{caseId}"
APPOINTMENTS = "/v1/patients/{patientId}/appointments"
SETTINGS = "/v1/patients/{patientId}/notification-settings"
# What each kind of interaction does: (API operation or flow, how many times). Flows are defined in `flows`.
INTERACTIONS: dict[str, list[tuple[str, float]]] = {
    "login": [  # the start page: who am I, unread messages, upcoming appointments, open cases
        ("GET /v1/me", 1),
        ("GET /v1/patients/{patientId}/inbox", 1),
        (f"GET {APPOINTMENTS}", 1),
        (f"GET {CASES}", 1),
    ],
    "inbox_message_read": [("GET /v1/patients/{patientId}/inbox/{messageId}", 1)],
    "case_sent": [
        ("GET /v1/clinics", 1),
        ("GET /v1/clinics/{clinicId}/case-types", 1),
        (f"POST {CASES}", 1),
        ("flow: case workflow run", 1),
        # staff answer it: the queue, the case, a first answer (case.answered: a notice), assigned half the time
        ("GET /v1/staff/cases", 2),
        (f"GET {STAFF_CASE}", 2),
        (f"POST {STAFF_CASE}/messages", 1),
        ("flow: notifiable event", 1),
        (f"POST {STAFF_CASE}/assignment", 0.5),
        (f"POST {STAFF_CASE}/information-requests", 0.2),
    ],
    "case_closed": [(f"POST {STAFF_CASE}/closure", 1)],
    "case_followed_up": [(f"GET {CASES}/{{caseId}}", 1)],
    "case_reply": [(f"POST {CASES}/{{caseId}}/messages", 1)],
    "booking": [
        ("GET /v1/times", 2),
        (f"POST {APPOINTMENTS}", 1),
        ("flow: booking reminder", 1),
    ],
    "cancellation": [(f"GET {APPOINTMENTS}", 1), (f"POST {APPOINTMENTS}/{{appointmentId}}/cancellation", 1)],
    "rebooking": [("GET /v1/times", 1), (f"POST {APPOINTMENTS}/{{appointmentId}}/rebooking", 1)],
    "public_search": [("GET /v1/clinics", 1), ("GET /v1/clinics/{clinicId}", 1)],
    "access_log_read": [("GET /v1/patients/{patientId}/access-log", 1)],
    "settings_change": [
        (f"GET {SETTINGS}", 1),
        (f"PUT {SETTINGS}", 1),
        ("flow: verification code", 1),
        (f"POST {SETTINGS}/verification", 1),
    ],
    "staff_login": [("GET /v1/staff/me", 1), ("GET /v1/staff/cases", 3), ("GET /v1/staff/statistics", 0.2)],
    "inbox_message_delivered": [("flow: inbox delivery", 1), ("flow: notifiable event", 1)],
    "clinic_day_list": [("GET /v1/staff/appointments", 1)],
    "hsa_unit_change": [("batch: DirectoryFeedFunction", 1)],
    "population_change": [("batch: PopulationRegisterFeedFunction", 1)],
    "staff_change": [("batch: HsaStaffFeedFunction", 1)],
}
SCHEDULED = (
    "CaseEventsOutboxFunction",
    "BookingSweeperFunction",
    "InboxOutboxFunction",
    "NotificationDispatchFunction",
)
MINUTES_A_MONTH = 60 * 24 * 365 / 12


def main() -> None:
    prices = json.loads((ROOT / "benchmarks/prices.json").read_text())
    functions = json.loads((RESULTS / "functions.json").read_text())
    cases = json.loads((RESULTS / "cases.json").read_text())
    price = {k: v["price"] / v["per"] for k, v in prices["prices"].items()}
    model = Model(functions, cases, price)
    report = model.report()
    report["prices"] = {
        "file": "benchmarks/prices.json",
        "recorded": prices["recorded"],
        "honesty": prices["honesty"],
        "low_confidence": sorted(k for k, v in prices["prices"].items() if v["confidence"] == "low"),
    }
    report["when"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    out = RESULTS / "cost.json"
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    _print(report)
    print(f"\nwritten to {out.relative_to(ROOT)}")


class Model:
    def __init__(self, functions: dict[str, Any], cases: dict[str, Any], price: dict[str, float]) -> None:
        self.ops = functions["operations"]
        self.background = functions["background"]
        self.observed = functions.get("observed", {})
        self.cold = functions.get("cold_first_request", {}).get("functions", {})
        self.imports = functions["cold"]["functions"]
        runs = cases["state_transitions"].values()
        self.transitions = sum(r["state_transitions"] for r in runs) / len(runs)
        self.price = price

    # ---- units of one thing ---------------------------------------------------------------------------------------
    def invocation(self, own_ms: float, calls: dict[str, float], cold_ms: float) -> dict[str, float]:
        """Lambda duration (GB-s), one request and its logs, for an invocation with these calls."""
        waiting = sum(n * _latency(call) for call, n in calls.items())
        ms = own_ms * CPU_SCALE + waiting + COLD_SHARE * cold_ms
        return {"lambda_gb_s": ms / 1000 * MEMORY_GB, "lambda_requests": 1.0, "log_gb": LOG_BYTES / 1e9}

    def operation(self, route: str) -> dict[str, float]:
        op = self.ops[route]
        cold = self.cold.get(op["function"], {}).get("import_and_first_request_ms")
        cold_ms = (cold or self.imports[op["function"]]["import_ms"] * CPU_SCALE) - op["handler_median_ms"]
        units = self.invocation(op["handler_own_median_ms"], op["calls"], max(cold_ms, 0.0))
        units |= {
            "http_api_requests": 1.0,
            "rru": op["read_units"],
            "wru": op["write_units"],
            "transfer_out_gb": (op.get("response_bytes", 0) + HEADER_BYTES) / 1e9,
        }
        return _add(units, self.billed(op["billed"]))

    def billed(self, billed: dict[str, float]) -> dict[str, float]:
        return {
            "sqs_requests": billed.get("sqs_requests", 0.0)
            + billed.get("sqs_messages", 0.0) * SQS_CONSUMER_REQUESTS,
            "events": billed.get("events", 0.0),
            "sfn_transitions": billed.get("sfn_standard_starts", 0.0) * self.transitions,
            "s3_puts": billed.get("s3_put_requests", 0.0),
            "s3_gets": billed.get("s3_get_requests", 0.0),
            "sms": billed.get("sms", 0.0),
            "emails": billed.get("emails", 0.0),
        }

    def batch_item(self, function: str) -> dict[str, float]:
        """One item's share of a measured batch (queue consumers: ten records an invocation)."""
        b = self.background[function]
        per = 1 / b["items"]
        units = self.invocation(b["own_ms"], b["calls"], self.imports[function]["import_ms"] * CPU_SCALE)
        units |= {"rru": b["read_units"], "wru": b["write_units"]}
        units = _add(units, self.billed(b["billed"]))
        units["sqs_requests"] = units.get("sqs_requests", 0.0) + b["items"] * SQS_CONSUMER_REQUESTS
        return {k: v * per for k, v in units.items()}

    def workflow_task(self, action: str) -> dict[str, float]:
        seen = self.observed.get(f"CaseWorkflowFunction:{action}")
        if not seen:
            return {}
        units = self.invocation(
            seen.get("own_median_ms", seen["median_ms"]),
            seen["calls_median"],
            self.imports["CaseWorkflowFunction"]["import_ms"],
        )
        units |= {"rru": seen.get("read_units_median", 0.0), "wru": seen.get("write_units_median", 0.0)}
        calls = seen["calls_median"]
        units["sqs_requests"] = calls.get("sqs:SendMessage", 0) * (1 + SQS_CONSUMER_REQUESTS)
        units["events"] = calls.get("events:PutEvents", 0)
        return units

    def flows(self) -> dict[str, dict[str, float]]:
        """What an operation sets off after it has answered."""
        run: dict[str, float] = {}
        for action, count in WORKFLOW_TASKS_PER_CASE.items():
            run = _add(run, _scale(self.workflow_task(action), count))
        notice = _scale(self.batch_item("NotificationSenderFunction"), NOTIFIED_SHARE)
        notice["sms"] = NOTIFIED_SHARE * SMS_SHARE
        notice["emails"] = NOTIFIED_SHARE * (1 - SMS_SHARE)
        event = _add(self.batch_item("NotificationCollectorFunction"), notice)
        event["sqs_requests"] = event.get("sqs_requests", 0.0) + 1  # EventBridge delivering to the queue
        # The sweeper (running every minute anyway) marks each due reminder sent and publishes its event.
        reminder_ms = sum(_latency(call) for call in REMINDER_CALLS)
        reminder = {"lambda_gb_s": reminder_ms / 1000 * MEMORY_GB} | REMINDER_UNITS
        reminder = _add(reminder, event)
        code = self.batch_item("NotificationSenderFunction")
        code["sms"] = SMS_SHARE
        code["emails"] = 1 - SMS_SHARE
        return {
            "flow: case workflow run": run,
            "flow: notifiable event": event,
            "flow: booking reminder": reminder,
            "flow: verification code": code,
            "flow: inbox delivery": self.batch_item("InboxDeliveryFunction"),
        }

    def fixed_month(self) -> dict[str, dict[str, float]]:
        """What runs whether anyone uses the platform or not, a month."""
        fixed: dict[str, dict[str, float]] = {}
        for function in SCHEDULED:
            b = self.background[function]
            units = self.invocation(b["own_ms"], b["calls"], 0.0)
            units |= {"rru": b["read_units"], "wru": b["write_units"]}
            fixed[f"{function} every minute"] = _scale(units, MINUTES_A_MONTH)
        polls = QUEUE_POLLERS * SQS_EVENT_SOURCES * 3 * MINUTES_A_MONTH  # 20 s long polls
        fixed["SQS event sources polling idle queues"] = {"sqs_requests": polls}
        fixed["KMS: keys and data-key requests"] = {"kms_keys": KMS_KEYS, "kms_requests": KMS_REQUESTS_MONTH}
        return fixed

    def storage_month(self, volumes: dict[str, float], audit_records: float) -> dict[str, float]:
        """GB stored after STORAGE_MONTHS of operation at these volumes (every table kept, audit for years)."""
        per_month = (
            audit_records * STORED_BYTES["audit_record"]
            + volumes["case_sent"] * (STORED_BYTES["case"] + 4 * STORED_BYTES["case_message"])
            + volumes["inbox_message_delivered"] * STORED_BYTES["inbox_message"]
            + volumes["booking"] * STORED_BYTES["appointment"]
        )
        return {"dynamodb_storage_gb": per_month * STORAGE_MONTHS / 1e9}

    # ---- the whole ----------------------------------------------------------------------------------------------
    def report(self) -> dict[str, Any]:
        flows = self.flows()

        def unit_of(step: str) -> dict[str, float]:
            if step in flows:
                return flows[step]
            if step.startswith("batch: "):
                return self.batch_item(step.removeprefix("batch: "))
            return self.operation(step)

        kinds = {}
        month: dict[str, float] = defaultdict(float)
        audited = 0.0
        for kind, steps in INTERACTIONS.items():
            one: dict[str, float] = {}
            for step, count in steps:
                one = _add(one, _scale(unit_of(step), count))
                if step in self.ops and self.ops[step]["calls"].get("dynamodb:TransactWriteItems"):
                    audited += count * VOLUMES[kind][0] * _audits(self.ops[step])
            volume = VOLUMES[kind][0]
            cost = self.cost(one)
            kinds[kind] = {
                "volume_a_month": volume,
                "volume_source": VOLUMES[kind][1],
                "steps": [f"{n:g} x {s}" for s, n in steps],
                "usd_each": round(sum(cost.values()), 8),
                "usd_a_month": round(sum(cost.values()) * volume, 2),
                "usd_a_month_by_service": {k: round(v * volume, 2) for k, v in sorted(cost.items()) if v},
            }
            for k, v in one.items():
                month[k] += v * volume
        volumes = {k: float(v[0]) for k, v in VOLUMES.items()}
        variable = self.cost(month)
        fixed_units = self.fixed_month()
        fixed = {name: round(sum(self.cost(units).values()), 2) for name, units in fixed_units.items()}
        storage = self.cost(self.storage_month(volumes, audited))
        resident = sum(VOLUMES[k][0] for k in RESIDENT_KINDS)
        variable_total = sum(variable.values())
        fixed_total = sum(fixed.values()) + sum(storage.values())
        per_thousand = variable_total / resident * 1000
        messages = variable.get("sms", 0.0) + variable.get("email", 0.0)
        return {
            "resident_interactions_a_month": resident,
            "usd_per_1000_resident_interactions": round(per_thousand, 4),
            "usd_per_1000_resident_interactions_with_fixed": round(
                (variable_total + fixed_total) / resident * 1000, 4
            ),
            "usd_per_1000_resident_interactions_without_sms_and_email": round(
                (variable_total - messages) / resident * 1000, 4
            ),
            "usd_a_month": {
                "variable": round(variable_total, 0),
                "fixed": round(sum(fixed.values()), 0),
                f"storage_after_{STORAGE_MONTHS}_months": round(sum(storage.values()), 0),
                "total": round(variable_total + fixed_total, 0),
            },
            "usd_a_month_by_service": {
                k: round(v, 0) for k, v in sorted(variable.items(), key=lambda kv: -kv[1])
            },
            "fixed_a_month": fixed,
            "interactions": kinds,
            "assumptions": {
                "cpu_scale": round(CPU_SCALE, 3),
                "latency_ms": LATENCY_MS,
                "cold_share": COLD_SHARE,
                "log_bytes_per_invocation": LOG_BYTES,
                "notified_share": NOTIFIED_SHARE,
                "sms_share": SMS_SHARE,
                "workflow_tasks_per_case": WORKFLOW_TASKS_PER_CASE,
                "state_transitions_per_case": self.transitions,
                "stored_bytes": STORED_BYTES,
                "audit_records_a_month": round(audited),
                "volumes": {k: v[1] for k, v in VOLUMES.items()},
            },
        }

    def cost(self, units: dict[str, float]) -> dict[str, float]:
        """USD by service for these units."""
        p = self.price
        return {
            "lambda": units.get("lambda_gb_s", 0) * p["lambda_arm_gb_second"]
            + units.get("lambda_requests", 0) * p["lambda_request"],
            "http_api": units.get("http_api_requests", 0) * p["http_api_request"],
            "dynamodb": units.get("rru", 0) * p["dynamodb_read_request_unit"]
            + units.get("wru", 0) * p["dynamodb_write_request_unit"]
            + units.get("dynamodb_storage_gb", 0) * p["dynamodb_storage_gb_month"],
            "sqs": units.get("sqs_requests", 0) * p["sqs_standard_request"],
            "step_functions": units.get("sfn_transitions", 0) * p["sfn_standard_state_transition"],
            "eventbridge": units.get("events", 0) * p["eventbridge_custom_event"],
            "s3": units.get("s3_puts", 0) * p["s3_put_request"]
            + units.get("s3_gets", 0) * p["s3_get_request"],
            "kms": units.get("kms_requests", 0) * p["kms_request"]
            + units.get("kms_keys", 0) * p["kms_key_month"],
            "cloudwatch_logs": units.get("log_gb", 0) * p["cloudwatch_logs_ingestion_gb"],
            "data_transfer": units.get("transfer_out_gb", 0) * p["data_transfer_out_gb"],
            "sms": units.get("sms", 0) * p["sns_sms_sweden"],
            "email": units.get("emails", 0) * p["ses_email"],
        }


def _audits(op: dict[str, Any]) -> float:
    """Audit records an operation appends (each a record and its HEAD in the audit table)."""
    return op.get("units_by_table", {}).get("AuditTable", {}).get("write", 0.0) / 4


def _latency(call: str) -> float:
    return LATENCY_MS.get(call, LATENCY_MS.get(call.split(":")[0], 10.0))


def _add(a: dict[str, float], b: dict[str, float]) -> dict[str, float]:
    return {k: a.get(k, 0.0) + b.get(k, 0.0) for k in {*a, *b}}


def _scale(a: dict[str, float], n: float) -> dict[str, float]:
    return {k: v * n for k, v in a.items()}


def _print(report: dict[str, Any]) -> None:
    print(
        "\nCost model (benchmarks/cost.py; prices in benchmarks/prices.json, eu-north-1, USD, not re-fetched)\n"
    )
    print(f"{'interaction':26} {'a month':>12} {'USD each':>11} {'USD a month':>13}  biggest part")
    for kind, k in report["interactions"].items():
        biggest = max(k["usd_a_month_by_service"].items(), key=lambda kv: kv[1], default=("-", 0))
        print(
            f"{kind:26} {k['volume_a_month']:12,d} {k['usd_each']:11.6f} {k['usd_a_month']:13,.0f}  "
            f"{biggest[0]} {biggest[1]:,.0f}"
        )
    m = report["usd_a_month"]
    print("\nfixed a month: " + ", ".join(f"{n} {v:,.0f}" for n, v in report["fixed_a_month"].items()))
    print(
        "by service a month (variable): "
        + ", ".join(f"{k} {v:,.0f}" for k, v in report["usd_a_month_by_service"].items())
    )
    print(
        f"\nper 1,000 resident interactions: USD {report['usd_per_1000_resident_interactions']:.2f} "
        f"(USD {report['usd_per_1000_resident_interactions_with_fixed']:.2f} with fixed costs and storage; "
        f"USD {report['usd_per_1000_resident_interactions_without_sms_and_email']:.3f} without the SMS and "
        f"e-mail notices); {report['resident_interactions_a_month']:,d} resident interactions a month"
    )
    print(
        f"a month at national scale: USD {m['total']:,.0f} (variable {m['variable']:,.0f}, fixed {m['fixed']:,.0f}, "
        f"storage after {STORAGE_MONTHS} months {m[f'storage_after_{STORAGE_MONTHS}_months']:,.0f})"
    )
    low = ", ".join(report["prices"]["low_confidence"])
    print(f"(prices of low confidence, to check first: {low}; every assumption is in cost.json)")


if __name__ == "__main__":
    main()
