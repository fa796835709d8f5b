"""`make bench` (part 4): the cases e-service: cold imports, create/list/read per request, state transitions
per case (what Step Functions Standard bills), measured like benchmarks/access.py (benchmarks/per_request.py).

Figures go to stdout and benchmarks/results/cases.json.
"""

from __future__ import annotations

import time
from datetime import date
from typing import Any

from benchmarks.access import measure_request
from benchmarks.emulator import child_environment, local_aws, write_results
from benchmarks.per_request import OTHER_SERVICES, REQUESTS, print_cold_import, print_operations
from benchmarks.run import IMPORT, median_of


def main() -> None:
    with local_aws("identity", "cases", execute_state_machines=True):
        import boto3

        from local_runtime import moto_patches
        from local_runtime.provision import provision
        from local_runtime.template import Template
        from tests.support.aws import Stack

        stack = Stack(provision(Template(), boto3.session.Session()))
        moto_patches.dispatch_lambda(
            lambda name, event: stack.invoke(stack.deployment.function_names[name], event)
        )
        env = child_environment(
            stack.deployment.function_environment("CasesApiFunction"), "identity", "cases"
        )
        cold = {
            "cases_api_import_ms": median_of(IMPORT.format(module="cases.api"), env),
            "cases_workflow_import_ms": median_of(IMPORT.format(module="cases.workflow"), env),
            "baseline_import_ms": median_of(IMPORT.format(module="benchmarks.baseline_handler"), env),
        }
        cold["cases_api_ratio"] = cold["cases_api_import_ms"] / cold["baseline_import_ms"]
        world, operations = _operations(stack)
        warm = {name: measure_request(stack, request) for name, request in operations.items()}
        transitions = _transitions(stack, world)
    figures = {"requests": REQUESTS, "cold": cold, "warm": warm, "state_transitions": transitions}
    write_results("cases", figures, _print)


def _operations(stack: Any) -> tuple[Any, dict[str, dict[str, Any]]]:
    from tests.support.people import ANSWERS, UNIT, World

    world = World(stack, date.today())
    world.offer("renew-prescription")
    anna, liv = world.resident("Anna Demobänk"), world.resident("Liv Demobänk", age=5)
    world.guardianship(anna, liv)
    nurse = world.staff("Sara Demobänk")
    child = world.patient_id(liv)
    case_id = world.send_case(anna, liv)
    guardian = world.token(anna)
    staff = {"token": world.staff_token(nurse), "headers": {"X-Commission-Id": nurse.commission_ids[0]}}
    body = {"clinic_id": UNIT["hsa_id"], "case_type_id": "renew-prescription", "form_version": 1}
    return world, {
        "POST cases (create, guardian)": {
            "method": "POST",
            "path": f"/v1/patients/{child}/cases",
            "token": guardian,
            "body": body | {"answers": ANSWERS["renew-prescription"]},
            "expect": 201,
        },
        "GET cases (list, 20)": {"token": guardian, "path": f"/v1/patients/{child}/cases"},
        "GET case (read with thread)": {"token": guardian, "path": f"/v1/patients/{child}/cases/{case_id}"},
        "GET /v1/staff/cases (queue)": {
            **staff,
            "path": "/v1/staff/cases",
            "query": "status=waiting_for_staff",
        },
        "GET staff case (read)": {**staff, "path": f"/v1/staff/patients/{child}/cases/{case_id}"},
    }


def _transitions(stack: Any, world: Any) -> dict[str, Any]:
    """State transitions and history events of two typical runs, from the executions' histories."""
    sfn = stack.session.client("stepfunctions")
    anna = world.resident("Anna Demoflöde")
    liv = world.resident("Liv Demoflöde", age=5)
    world.guardianship(anna, liv)
    nurse = world.staff("Sara Demoflöde")
    child = world.patient_id(liv)
    headers = {"X-Commission-Id": nurse.commission_ids[0]}

    def run(steps: list[tuple[str, str, dict[str, Any] | None, bool]]) -> dict[str, int]:
        case_id = world.send_case(anna, liv)
        for who, action, body, wait_resident in steps:
            _wait(stack, child, case_id, "resident" if wait_resident else "staff")
            if who == "staff":
                path = f"/v1/staff/patients/{child}/cases/{case_id}/{action}"
                stack.call("POST", path, token=world.staff_token(nurse), headers=headers, body=body)
            else:
                path = f"/v1/patients/{child}/cases/{case_id}/{action}"
                stack.call("POST", path, token=world.token(anna), body=body)
        arn = f"{stack.ref('CaseWorkflow').replace(':stateMachine:', ':execution:')}:{case_id}-1"
        deadline = time.monotonic() + 60
        while sfn.describe_execution(executionArn=arn)["status"] == "RUNNING":
            if time.monotonic() > deadline:
                raise TimeoutError(case_id)
            time.sleep(0.2)
        events = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
        return {
            "state_transitions": sum(1 for e in events if e["type"].endswith("StateEntered")),
            "history_events": len(events),
        }

    return {
        "renewal approved": run(
            [("staff", "decision", {"outcome": "approved", "renewed": ["Demoxin"]}, False)]
        ),
        "question, reply, answer": run(
            [
                ("staff", "information-requests", {"text": "Vilken dos?"}, False),
                ("resident", "messages", {"text": "10 mg."}, True),
                ("staff", "messages", {"text": "Tack, klart.", "close": True}, False),
            ]
        ),
    }


def _wait(stack: Any, patient_id: str, case_id: str, who: str) -> None:
    from eservices_core.table import Table

    table = Table(stack.session.client("dynamodb"), stack.ref("CasesTable"))
    deadline = time.monotonic() + 30
    while (table.get((f"PATIENT#{patient_id}", f"CASE#{case_id}")) or {}).get("waiting_for") != who:
        if time.monotonic() > deadline:
            raise TimeoutError(f"case {case_id} never waited for {who}")
        time.sleep(0.1)


def _print(report: dict[str, Any]) -> None:
    c = report["cold"]
    print("\nCases benchmark\n")
    print_cold_import("cases.api", c["cases_api_import_ms"], c["baseline_import_ms"], c["cases_api_ratio"])
    print(f"{'cases.workflow':32} {c['cases_workflow_import_ms']:8.1f}")
    print_operations(report["warm"], 34)
    print("\nStep Functions Standard, one run of a case")
    for name, t in report["state_transitions"].items():
        print(f"  {name:28} {t['state_transitions']} state transitions, {t['history_events']} history events")
    print(f"(other calls counted: {', '.join(OTHER_SERVICES)})")


if __name__ == "__main__":
    main()
