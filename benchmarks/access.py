"""`make bench` (part 3): what the access policy and the PDL audit log add to every patient-scoped request.

- cold import of the identity API and feed handlers beside the boto3 baseline (fresh interpreters, median);
- per operation, through the gateway in-process against a local moto server over HTTP: handler time (median,
  p95), and the DynamoDB round trips split into the access check (identity table), the audit write (audit
  table) and the route's own work, with the time spent waiting on each;
- the added cost of the policy: the same read (`GET /v1/patients/{id}`) with the access check and audit
  append timed apart from the rest of the handler.
Figures go to stdout and benchmarks/results/access.json.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from benchmarks.emulator import child_environment, local_aws, write_results
from benchmarks.per_request import REQUESTS, Operation, measure, print_cold_import
from benchmarks.run import IMPORT, median_of


def main() -> None:
    with local_aws("identity"):
        import boto3

        from local_runtime.provision import provision
        from local_runtime.template import Template
        from tests.support.aws import Stack

        stack = Stack(provision(Template(), boto3.session.Session()))
        env = child_environment(stack.deployment.function_environment("IdentityApiFunction"), "identity")
        cold = {
            "identity_api_import_ms": median_of(IMPORT.format(module="identity.api"), env),
            "identity_feeds_import_ms": median_of(IMPORT.format(module="identity.feeds"), env),
            "baseline_import_ms": median_of(IMPORT.format(module="benchmarks.baseline_handler"), env),
        }
        cold["identity_api_ratio"] = cold["identity_api_import_ms"] / cold["baseline_import_ms"]
        operations = _operations(stack)
        warm = {name: measure_request(stack, request) for name, request in operations.items()}
    write_results("access", {"requests": REQUESTS, "cold": cold, "warm": warm}, _print)


def _operations(stack: Any) -> dict[str, dict[str, Any]]:
    """A family and a staff member through the feeds; one request per operation a user makes."""
    from tests.support.people import World

    world = World(stack, date.today())
    anna = world.resident("Anna Demobänk")
    liv = world.resident("Liv Demobänk", age=8)
    world.guardianship(anna, liv)
    nurse = world.staff("Sara Demobänk")
    child = world.patient_id(liv)
    staff = {"token": world.staff_token(nurse), "headers": {"X-Commission-Id": nurse.commission_ids[0]}}
    return {
        "GET /v1/me (guardian of 1)": {"token": world.token(anna), "path": "/v1/me"},
        "GET /v1/patients/{id} (self)": {"token": world.token(liv), "path": f"/v1/patients/{child}"},
        "GET /v1/patients/{id} (guardian)": {"token": world.token(anna), "path": f"/v1/patients/{child}"},
        "GET …/access-log (guardian)": {
            "token": world.token(anna),
            "path": f"/v1/patients/{child}/access-log",
        },
        "GET /v1/staff/me": {"token": world.staff_token(nurse), "path": "/v1/staff/me"},
        "POST /v1/staff/patient-lookups": {
            **staff,
            "method": "POST",
            "path": "/v1/staff/patient-lookups",
            "body": {"personal_identity_number": liv.personnummer},
        },
        "GET /v1/staff/patients/{id}/guardians": {**staff, "path": f"/v1/staff/patients/{child}/guardians"},
    }


def measure_request(stack: Any, request: dict[str, Any]) -> dict[str, Any]:
    """The figures of benchmarks.per_request, and the time spent waiting on the access check and the audit."""
    samples = measure(stack, Operation(lambda: request))
    return samples.figures() | {
        "access_check_wait_median_ms": samples.median_wait_ms("access check"),
        "audit_wait_median_ms": samples.median_wait_ms("audit"),
    }


def _print(report: dict[str, Any]) -> None:
    c = report["cold"]
    print("\nAccess policy and PDL audit benchmark (identity e-service)\n")
    print_cold_import(
        "identity.api", c["identity_api_import_ms"], c["baseline_import_ms"], c["identity_api_ratio"]
    )
    print(f"{'identity.feeds':32} {c['identity_feeds_import_ms']:8.1f}")
    print(
        f"\n{'operation':38} {'median':>7} {'p95':>7} {'own':>6} {'trips':>6} {'check':>6} {'audit':>6} "
        f"{'route':>6} {'check ms':>9} {'audit ms':>9}"
    )
    for name, w in report["warm"].items():
        print(
            f"{name:38} {w['median_ms']:7.2f} {w['p95_ms']:7.2f} {w['own_median_ms']:6.2f} {w['round_trips']:6d} "
            f"{w['access_check_round_trips']:6d} {w['audit_round_trips']:6d} {w['route_round_trips']:6d} "
            f"{w['access_check_wait_median_ms']:9.2f} {w['audit_wait_median_ms']:9.2f}"
        )
    print(
        "(ms through the gateway in-process, against a local moto server over HTTP; 'own' leaves out waiting on "
        "it; 'check'/'audit' columns: round trips and waiting time of the access check and the audit append)"
    )


if __name__ == "__main__":
    main()
