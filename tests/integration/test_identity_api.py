"""Identity and access through the gateway: /v1/me, guardians (rules 5-11), staff commissions (rules 13-14),
patient lookups, guardian blocks, the PDL audit log and the resident's access log (rules 15-16)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from eservices_core.audit import verify_table
from eservices_core.clock import STOCKHOLM, FixedClock, stockholm_midnight, use_clock
from eservices_core.table import Table
from tests.support.aws import count_calls, fail_calls
from tests.support.people import CARE, OTHER_UNIT, PRIVATE_UNIT, UNIT, World

TODAY = date(2026, 11, 25)


@pytest.fixture
def world(stack):
    with use_clock(FixedClock(datetime(2026, 11, 25, 10, 0, tzinfo=UTC))):
        yield World(stack, TODAY)


@pytest.fixture
def family(world):
    """Anna and Erik, guardians of Liv (8) and Vilgot (13 and a month)."""
    anna, erik = world.resident("Anna Demotest"), world.resident("Erik Demotest")
    liv = world.resident("Liv Demotest", age=8)
    vilgot = world.resident("Vilgot Demotest", born=date(2013, 10, 20))
    world.family(anna, erik, children=[liv, vilgot])
    return anna, erik, liv, vilgot


def get(world, path, person, **kwargs):
    return world.stack.call("GET", path, token=world.token(person, **kwargs))


def staff_call(world, method, path, member, commission=None, body=None):
    headers = {"X-Commission-Id": commission or member.commission_ids[0]} if commission != "" else {}
    return world.stack.call(method, path, token=world.staff_token(member), headers=headers, body=body)


def audit_records(world, patient_id):
    page = Table(world.stack.session.client("dynamodb"), world.stack.ref("AuditTable")).query(
        f"PATIENT#{patient_id}", prefix="REC#"
    )
    return page.items


# ---- /v1/me --------------------------------------------------------------------------------------------------
def test_me_lists_the_caller_and_the_children_under_13_they_are_guardian_of(world, family):
    anna, _, liv, _ = family

    status, body = get(world, "/v1/me", anna)

    assert status == 200
    assert body["patient_id"] == world.patient_id(anna) and body["name"] == "Anna Demotest"
    assert [(p["name"], p["relation"]) for p in body["patients"]] == [
        ("Anna Demotest", "self"),
        ("Liv Demotest", "guardian"),
    ], "Vilgot turned 13: not listed"
    [child] = body["patients"][1:]
    assert child["patient_id"] == world.patient_id(liv)
    thirteenth = date(liv.birth_date.year + 13, liv.birth_date.month, liv.birth_date.day)
    assert child["until"] == stockholm_midnight(thirteenth).isoformat().replace("+00:00", "Z")
    assert liv.personnummer not in str(body) and anna.personnummer not in str(body)


def test_both_guardians_see_the_same_child(world, family):
    anna, erik, liv, _ = family
    ids = [{p["patient_id"] for p in get(world, "/v1/me", g)[1]["patients"][1:]} for g in (anna, erik)]
    assert ids[0] == ids[1] == {world.patient_id(liv)}


def test_a_person_unknown_to_the_register_gets_a_stable_patient_id_and_no_children(world):
    from tests.support.people import Resident

    stranger = Resident(_pnr(world), "Ny Demoinvånare", date(1990, 1, 1))
    first = get(world, "/v1/me", stranger)
    again = get(world, "/v1/me", stranger)
    assert first[0] == again[0] == 200
    assert first[1]["patient_id"] == again[1]["patient_id"]
    assert [p["relation"] for p in first[1]["patients"]] == ["self"]


def _pnr(world):
    from local_runtime.demo import personnummer

    return personnummer(date(1990, 1, 1), 940)


@pytest.mark.parametrize("level", [1, 2])
def test_tokens_below_assurance_level_3_are_refused(world, family, level):
    anna = family[0]
    for path in ("/v1/me", f"/v1/patients/{world.patient_id(anna)}"):
        status, body = get(world, path, anna, assurance_level=level)
        assert status == 401 and body["code"] == "unauthenticated"


# ---- guardian rules ------------------------------------------------------------------------------------------
def test_guardian_reads_the_child_and_the_read_is_audited_as_acting_for_the_child(world, family):
    anna, _, liv, _ = family
    child_id = world.patient_id(liv)

    status, body = get(world, f"/v1/patients/{child_id}", anna)

    assert status == 200 and body["relation"] == "guardian" and body["name"] == "Liv Demotest"
    [record] = audit_records(world, child_id)
    assert record["actor_kind"] == "resident" and record["actor_id"] == world.patient_id(anna)
    assert record["acting_for"] == child_id and record["relation"] == "guardian"
    assert record["action"] == "read" and record["resource"] == "patient"


def test_another_resident_gets_404_exactly_as_for_a_patient_that_does_not_exist(world, family):
    _, _, liv, _ = family
    maja = world.resident("Maja Demotest")

    other = get(world, f"/v1/patients/{world.patient_id(liv)}", maja)
    missing = get(world, "/v1/patients/00000000-0000-4000-8000-000000000000", maja)

    assert other[0] == missing[0] == 404
    assert {k: v for k, v in other[1].items() if k != "instance"} == {
        k: v for k, v in missing[1].items() if k != "instance"
    }
    assert "Liv" not in str(other[1])
    assert audit_records(world, world.patient_id(liv)) == [], "a refused request reads nothing"


@pytest.mark.parametrize(
    "birthday",
    [
        date(2026, 1, 15),  # winter time, UTC+1
        date(2026, 7, 15),  # summer time, UTC+2
        date(2026, 3, 29),  # the day summer time starts
        date(2026, 10, 25),  # the day summer time ends
        date(2026, 3, 30),  # the day after summer time started
        date(2026, 10, 26),  # the day after summer time ended
    ],
)
def test_guardian_access_ends_at_midnight_stockholm_on_the_13th_birthday(stack, birthday):
    world = World(stack, birthday - timedelta(days=1))
    anna = world.resident("Anna Demogräns")
    child = world.resident("Barn Demogräns", born=birthday.replace(year=birthday.year - 13))
    world.guardianship(anna, child)
    path = f"/v1/patients/{world.patient_id(child)}"
    midnight = stockholm_midnight(birthday)

    with use_clock(FixedClock(midnight - timedelta(seconds=1))) as clock:
        assert clock.now().astimezone(STOCKHOLM).time().isoformat() == "23:59:59"
        before = get(world, path, anna)
        listed = get(world, "/v1/me", anna)[1]["patients"]
        clock.set(midnight)
        after = get(world, path, anna)
        unlisted = get(world, "/v1/me", anna)[1]["patients"]

    assert before[0] == 200 and before[1]["name"] == "Barn Demogräns"
    assert len(listed) == 2 and len(unlisted) == 1
    assert after[0] == 404 and "Barn" not in str(after[1])


def test_twenty_ninth_of_february_child_turns_13_on_the_first_of_march(stack):
    world = World(stack, date(2025, 2, 28))
    anna = world.resident("Anna Demoskott")
    child = world.resident("Skottdags Demobarn", born=date(2012, 2, 29))
    world.guardianship(anna, child)
    path = f"/v1/patients/{world.patient_id(child)}"
    with use_clock(FixedClock(stockholm_midnight(date(2025, 3, 1)) - timedelta(seconds=1))) as clock:
        assert get(world, path, anna)[0] == 200
        clock.set(stockholm_midnight(date(2025, 3, 1)))
        assert get(world, path, anna)[0] == 404


def test_protected_identity_appearing_ends_guardian_access_with_the_same_token(world, family):
    anna, _, liv, _ = family
    token = world.token(anna)
    path = f"/v1/patients/{world.patient_id(liv)}"
    assert world.stack.call("GET", path, token=token)[0] == 200

    world.register(liv, protected_identity=True)

    assert world.stack.call("GET", path, token=token)[0] == 404
    me = world.stack.call("GET", "/v1/me", token=token)[1]
    assert [p["relation"] for p in me["patients"]] == ["self"]
    assert world.stack.call("GET", f"/v1/patients/{world.patient_id(liv)}", token=world.token(liv))[0] == 200


def test_a_guardian_with_protected_identity_has_no_guardian_access(world):
    parent = world.resident("Skyddad Demoförälder", protected_identity=True)
    child = world.resident("Barn Demoskyddad", age=5)
    world.guardianship(parent, child)
    assert get(world, f"/v1/patients/{world.patient_id(child)}", parent)[0] == 404
    assert len(get(world, "/v1/me", parent)[1]["patients"]) == 1


def test_a_removed_guardianship_ends_access(world, family):
    anna, _, liv, _ = family
    world.guardianship(anna, liv, added=False)
    assert get(world, f"/v1/patients/{world.patient_id(liv)}", anna)[0] == 404


def test_a_deceased_child_is_not_acted_for(world, family):
    anna, _, liv, _ = family
    world.register(liv, deceased=True)
    assert get(world, f"/v1/patients/{world.patient_id(liv)}", anna)[0] == 404


# ---- staff: commissions, lookups, blocks ---------------------------------------------------------------------
def test_staff_me_lists_only_active_commissions(world):
    member = world.staff(
        "Sara Demosköterska",
        {"unit": UNIT, "id": "C-ACTIVE"},
        {"unit": OTHER_UNIT, "id": "C-ENDED", "valid_to": "2026-11-24"},
        {"unit": OTHER_UNIT, "id": "C-FUTURE", "valid_from": "2026-11-26"},
        {"unit": OTHER_UNIT, "id": "C-LASTDAY", "valid_to": "2026-11-25"},
        {"unit": OTHER_UNIT, "id": "C-REVOKED"},
    )
    from local_runtime import population

    world.feed_staff(population.commission_revoked(member.hsa_id, "C-REVOKED", seconds=world.tick()))

    status, body = world.stack.call("GET", "/v1/staff/me", token=world.staff_token(member))

    assert status == 200 and body["name"] == "Sara Demosköterska"
    assert [c["id"] for c in body["commissions"]] == ["C-ACTIVE", "C-LASTDAY"]
    assert body["commissions"][0] | {"roles": []} == {
        "id": "C-ACTIVE",
        "care_unit_hsa_id": UNIT["hsa_id"],
        "care_unit_name": UNIT["name"],
        "care_provider_hsa_id": UNIT["care_provider_hsa_id"],
        "purpose": CARE,
        "roles": [],
        "valid_from": "2020-01-01",
        "valid_to": None,
    }


def test_a_resident_token_is_refused_on_staff_routes_and_a_staff_token_on_resident_routes(world, family):
    anna = family[0]
    member = world.staff("Sara Demosköterska")
    assert world.stack.call("GET", "/v1/staff/me", token=world.token(anna))[0] == 401
    assert world.stack.call("GET", "/v1/me", token=world.staff_token(member))[0] == 401


def lookup(world, member, personnummer, commission=None):
    return staff_call(
        world,
        "POST",
        "/v1/staff/patient-lookups",
        member,
        commission,
        {"personal_identity_number": personnummer},
    )


def test_patient_lookup_answers_the_patient_id_and_is_audited(world, family):
    _, _, liv, _ = family
    member = world.staff("Sara Demosköterska")

    status, body = lookup(world, member, liv.personnummer)

    assert status == 200 and body["patient_id"] == world.patient_id(liv) and body["relation"] == "staff"
    [record] = audit_records(world, body["patient_id"])
    assert record["action"] == "lookup" and record["actor_id"] == member.hsa_id
    assert record["care_unit_hsa_id"] == UNIT["hsa_id"] and record["purpose"] == CARE
    assert record["commission_id"] == member.commission_ids[0]


def test_patient_lookup_bad_input(world, family):
    member = world.staff("Sara Demosköterska")
    liv = family[2]
    bad = liv.personnummer[:-1] + str((int(liv.personnummer[-1]) + 1) % 10)

    status, body = lookup(world, member, bad)
    assert status == 400 and body["invalid_params"][0]["name"] == "personal_identity_number"
    assert bad not in str(body)
    assert staff_call(world, "POST", "/v1/staff/patient-lookups", member, body={})[0] == 400
    assert staff_call(world, "POST", "/v1/staff/patient-lookups", member, body=b"not json")[0] == 400
    assert lookup(world, member, _pnr(world))[0] == 404, "valid but unknown"


@pytest.mark.parametrize("case", ["no-header", "someone-elses", "revoked", "administration", "expired"])
def test_patient_lookup_needs_an_active_care_commission_of_ones_own(world, family, case):
    liv = family[2]
    other = world.staff("Annan Demoläkare")
    member = {
        "no-header": lambda: world.staff("Sara Demosköterska"),
        "someone-elses": lambda: world.staff("Sara Demosköterska"),
        "revoked": lambda: world.staff("Sara Demosköterska"),
        "administration": lambda: world.staff("Sara Demoadmin", purpose="Administration"),
        "expired": lambda: world.staff("Sara Demoslutat", valid_to="2026-11-24"),
    }[case]()
    if case == "revoked":
        from local_runtime import population

        world.feed_staff(
            population.commission_revoked(member.hsa_id, member.commission_ids[0], seconds=world.tick())
        )
    commission = {"no-header": "", "someone-elses": other.commission_ids[0]}.get(case)

    status, body = lookup(world, member, liv.personnummer, commission)

    assert status == (400 if case == "no-header" else 403), body
    assert "patient_id" not in body
    assert audit_records(world, world.patient_id(liv)) == []


def test_staff_block_a_guardian_who_then_sees_nothing_and_cannot_re_add_the_child(world, family):
    anna, erik, liv, _ = family
    blocker = world.staff("Doktor Demospärr", roles=["block-guardians"])
    child_id, anna_id = world.patient_id(liv), world.patient_id(anna)

    status, body = staff_call(
        world,
        "POST",
        f"/v1/staff/patients/{child_id}/guardian-blocks",
        blocker,
        body={"guardian_patient_id": anna_id},
    )
    assert status == 201 and body == {"patient_id": child_id, "guardian_patient_id": anna_id, "blocked": True}

    assert get(world, f"/v1/patients/{child_id}", anna)[0] == 404
    assert [p["relation"] for p in get(world, "/v1/me", anna)[1]["patients"]] == ["self"]
    assert get(world, f"/v1/patients/{child_id}", erik)[0] == 200, "the other guardian keeps access"
    world.guardianship(anna, liv)  # the register re-sends the guardianship
    assert get(world, f"/v1/patients/{child_id}", anna)[0] == 404

    guardians = staff_call(world, "GET", f"/v1/staff/patients/{child_id}/guardians", blocker)[1]["items"]
    assert {g["name"]: g["blocked"] for g in guardians} == {"Anna Demotest": True, "Erik Demotest": False}

    again = staff_call(
        world,
        "POST",
        f"/v1/staff/patients/{child_id}/guardian-blocks",
        blocker,
        body={"guardian_patient_id": anna_id},
    )
    assert again[0] == 200, "blocking twice is idempotent"
    lifted = staff_call(world, "DELETE", f"/v1/staff/patients/{child_id}/guardian-blocks/{anna_id}", blocker)
    assert lifted[0] == 204
    assert get(world, f"/v1/patients/{child_id}", anna)[0] == 200
    assert (
        staff_call(world, "DELETE", f"/v1/staff/patients/{child_id}/guardian-blocks/{anna_id}", blocker)[0]
        == 404
    )
    actions = [
        (r["action"], r["resource"]) for r in audit_records(world, child_id) if r["actor_kind"] == "staff"
    ]
    assert actions.count(("write", "guardian-block")) == 2, "two blocks placed (one was there already)"
    assert actions.count(("write", f"guardian-block/{anna_id}")) == 2, "two lifts, naming the guardian"
    assert ("read", "guardians") in actions


def test_guardian_blocks_need_the_role_and_a_real_guardian(world, family):
    anna, _, liv, vilgot = family
    nurse = world.staff("Sara Demosköterska")
    blocker = world.staff("Doktor Demospärr", roles=["block-guardians"])
    path = f"/v1/staff/patients/{world.patient_id(liv)}/guardian-blocks"

    no_role = staff_call(world, "POST", path, nurse, body={"guardian_patient_id": world.patient_id(anna)})
    not_guardian = staff_call(
        world, "POST", path, blocker, body={"guardian_patient_id": world.patient_id(vilgot)}
    )
    no_body = staff_call(world, "POST", path, blocker)

    assert no_role[0] == 403 and "block-guardians" in no_role[1]["detail"]
    assert not_guardian[0] == 404
    assert no_body[0] == 400 and no_body[1]["invalid_params"][0]["name"] == "body"


# ---- access log ----------------------------------------------------------------------------------------------
def test_access_log_shows_staff_accesses_newest_first_with_names_only_of_public_providers(world, family):
    anna, _, liv, _ = family
    public = world.staff("Doktor Demoöppen")
    private = world.staff("Doktor Demoprivat", unit=PRIVATE_UNIT, provider_public=False)
    lookup(world, public, liv.personnummer)
    lookup(world, private, liv.personnummer)
    child_id = world.patient_id(liv)
    get(world, f"/v1/patients/{child_id}", anna)  # a guardian's access is not a staff access

    status, body = get(world, f"/v1/patients/{child_id}/access-log", anna)

    assert status == 200 and body["next_cursor"] is None
    assert [(e["care_unit"]["hsa_id"], e["staff_name"]) for e in body["items"]] == [
        (PRIVATE_UNIT["hsa_id"], None),
        (UNIT["hsa_id"], "Doktor Demoöppen"),
    ]
    entry = body["items"][1]
    assert entry["purpose"] == CARE and entry["action"] == "lookup" and entry["time"].endswith("Z")


def test_access_log_pages_with_a_cursor_and_refuses_bad_parameters(world, family):
    anna, _, liv, _ = family
    member = world.staff("Doktor Demoöppen")
    for _ in range(3):
        lookup(world, member, liv.personnummer)
    path = f"/v1/patients/{world.patient_id(liv)}/access-log"
    token = world.token(anna)

    seen, cursor = [], ""
    for _ in range(5):
        status, body = world.stack.call("GET", path, token=token, query=f"limit=2{cursor}")
        assert status == 200
        seen += body["items"]
        if not body["next_cursor"]:
            break
        cursor = f"&cursor={body['next_cursor']}"
    assert len(seen) == 3 and [e["time"] for e in seen] == sorted((e["time"] for e in seen), reverse=True)
    for query in ("limit=0", "limit=x", "cursor=garbage"):
        status, body = world.stack.call("GET", path, token=token, query=query)
        assert status == 400 and body["code"] == "invalid-input", query


# ---- audit: before the response, or no response --------------------------------------------------------------
def test_if_the_audit_record_cannot_be_written_the_request_fails_with_503_and_no_data(world, family):
    anna, _, liv, _ = family
    child_id = world.patient_id(liv)
    with fail_calls("dynamodb", "InternalServerError", operation="TransactWriteItems"):
        status, body = get(world, f"/v1/patients/{child_id}", anna)
    assert status == 503 and body["code"] == "service-unavailable"
    assert "Liv" not in str(body) and audit_records(world, child_id) == []


def test_every_access_extends_one_intact_chain_per_patient(world, family):
    anna, erik, liv, _ = family
    member = world.staff("Doktor Demoöppen")
    child_id = world.patient_id(liv)
    get(world, f"/v1/patients/{child_id}", anna)
    get(world, f"/v1/patients/{child_id}", erik)
    lookup(world, member, liv.personnummer)
    get(world, f"/v1/patients/{child_id}/access-log", liv)

    records = audit_records(world, child_id)
    assert [r["seq"] for r in records] == [1, 2, 3, 4]
    assert [r["relation"] for r in records] == ["guardian", "guardian", "staff", "self"]
    table = Table(world.stack.session.client("dynamodb"), world.stack.ref("AuditTable"))
    assert verify_table(table, datetime.now(UTC))[2] == []


# ---- round trips (the figures are in the benchmark; these keep them from growing) ----------------------------
@pytest.mark.parametrize(("caller", "limit"), [("self", 3), ("guardian", 3), ("staff", 3)])
def test_access_check_and_audit_round_trips(world, family, caller, limit):
    anna, _, liv, _ = family
    member = world.staff("Doktor Demoöppen")
    child_id = world.patient_id(liv)
    token, path, headers = {
        "self": (world.token(liv), f"/v1/patients/{child_id}", {}),
        "guardian": (world.token(anna), f"/v1/patients/{child_id}", {}),
        "staff": (
            world.staff_token(member),
            f"/v1/staff/patients/{child_id}/guardians",
            {"X-Commission-Id": member.commission_ids[0]},
        ),
    }[caller]
    world.stack.call("GET", path, token=token, headers=headers)  # warm
    with count_calls() as calls:
        status, _ = world.stack.call("GET", path, token=token, headers=headers)
    assert status == 200
    route_own = 2 if caller == "staff" else 0  # the guardians list: one Query, one BatchGetItem
    assert len(calls) - route_own <= limit, calls
