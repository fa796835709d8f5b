"""The local runtime over HTTP: gateway, JWT authorizer, identity providers, pollers, demo data, atomicity."""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import boto3
import jwt
import pytest
from botocore.exceptions import ClientError

from eservices_core.identifiers import is_valid_personal_identity
from local_runtime.generate import feed_message
from local_runtime.idp import DevIdentityProvider, resident_claims
from local_runtime.runtime import free_port
from tests.support.http import call, get_json, resident_token


@pytest.fixture(scope="module")
def anna(runtime):
    _, identities = get_json(runtime, "/dev/identities")
    return next(p for p in identities["residents"] if p["name"] == "Anna Demosson")


def test_health_reports_every_part(runtime):
    status, body = get_json(runtime, "/health")
    assert status == 200
    assert body["status"] == "ok"
    assert body["parts"]["aws"] == "ok" and body["parts"]["demo_data"] == "loaded"
    assert set(body["parts"]["pollers"].values()) == {"running"}
    assert any(name.startswith("DirectoryFeedFunction") for name in body["parts"]["pollers"])


def test_demo_identities_have_the_documented_shape_and_cover_the_rules(runtime):
    _, identities = get_json(runtime, "/dev/identities")
    today = date.today()
    residents = identities["residents"]
    for person in residents:
        assert {"personnummer", "name", "birth_date", "guardian_of", "protected_identity"} <= set(person)
        assert len(person["personnummer"]) == 12 and is_valid_personal_identity(
            person["personnummer"], today=today
        )
        assert "Demo" in person["name"]
    ages = {p["personnummer"]: (today - date.fromisoformat(p["birth_date"])).days / 365.25 for p in residents}
    families: dict[tuple[str, ...], list[dict]] = {}
    for person in residents:
        if person["guardian_of"]:
            families.setdefault(tuple(person["guardian_of"]), []).append(person)
    both = [kids for kids, guardians in families.items() if len(guardians) == 2]
    children = [ages[c] for kids in both for c in kids]
    assert any(12.5 < a < 13 for a in children) and any(13 < a < 13.5 for a in children)
    assert any(p["protected_identity"] and p["guardian_of"] for p in residents), "rule 10 can be tried"
    assert any(p["blocked_for"] for p in residents), "rule 9 can be tried"
    for member in identities["staff"]:
        assert {"hsa_id", "name", "commissions"} <= set(member)
        for commission in member["commissions"]:
            assert set(commission) >= {"id", "care_unit_hsa_id", "purpose"}
    assert any(m["commissions"] for m in identities["staff"])


def test_the_login_page_lists_the_demo_identities(runtime):
    status, headers, body = call(runtime, "GET", "/dev/login")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert "Anna Demosson" in body.decode() and "Doktor Demo Läkare" in body.decode()


def test_identity_providers_publish_discovery_and_jwks(runtime):
    for name in ("resident", "staff"):
        _, discovery = get_json(runtime, f"/dev/idp/{name}/.well-known/openid-configuration")
        assert discovery["issuer"] == f"{runtime.base_url}/dev/idp/{name}"
        _, jwks = get_json(runtime, f"/dev/idp/{name}/jwks.json")
        assert jwks["keys"][0]["kty"] == "RSA" and jwks["keys"][0]["alg"] == "RS256"


def test_the_directory_serves_demo_clinics_through_the_gateway(runtime):
    status, page = get_json(runtime, "/v1/clinics?q=vardcentral&region=01&limit=3")
    assert status == 200 and 1 <= len(page["items"]) <= 3
    clinic = page["items"][0]
    status, detail = get_json(runtime, f"/v1/clinics/{clinic['id']}")
    assert status == 200 and detail["name"] == clinic["name"] and detail["care_provider"]["name"]
    status, headers, body = call(runtime, "GET", "/v1/clinics?region=99")
    assert status == 400 and headers["Content-Type"] == "application/problem+json"
    assert json.loads(body)["invalid_params"][0]["name"] == "region"


def test_me_answers_who_the_resident_is(runtime, anna):
    status, me = get_json(
        runtime, "/v1/me", {"Authorization": "Bearer " + resident_token(runtime, anna["personnummer"])}
    )
    assert status == 200
    assert (
        me["name"] == "Anna Demosson"
        and me["birth_date"] == anna["birth_date"]
        and me["assurance_level"] == 3
    )
    assert anna["personnummer"] not in json.dumps(me)


def _forged_tokens(runtime, anna):
    idp = runtime.idps["resident"]
    claims = resident_claims(anna["personnummer"], anna["name"])
    stranger = DevIdentityProvider("resident", idp.issuer, idp.audience, kid=idp.kid)
    other_issuer = DevIdentityProvider("resident", "https://evil.example", idp.audience)
    unsigned = jwt.encode(
        {**claims, "iss": idp.issuer, "aud": idp.audience, "exp": time.time() + 600},
        key=None,  # type: ignore[arg-type]
        algorithm="none",
    )
    return {
        "no token": None,
        "empty bearer": "Bearer ",
        "garbage": "Bearer not-a-jwt",
        "expired": "Bearer " + idp.issue(claims, now=time.time() - 7200),
        "not yet valid": "Bearer " + idp.issue(claims, now=time.time() + 600),
        "signed by another key": "Bearer " + stranger.issue(claims),
        "alg none": "Bearer " + unsigned,
        "another issuer": "Bearer " + other_issuer.issue(claims),
        "another audience": "Bearer "
        + DevIdentityProvider("resident", idp.issuer, "someone-else", key=idp.key, kid=idp.kid).issue(claims),
        "staff token on a resident route": "Bearer " + runtime.idps["staff"].issue(claims),
    }


@pytest.mark.parametrize(
    "case",
    [
        "no token",
        "empty bearer",
        "garbage",
        "expired",
        "not yet valid",
        "signed by another key",
        "alg none",
        "another issuer",
        "another audience",
        "staff token on a resident route",
    ],
)
def test_bad_tokens_get_401_from_the_gateway_without_the_handler_running(runtime, anna, case):
    token = _forged_tokens(runtime, anna)[case]
    before = runtime.runner.invocations["IdentityApiFunction"]
    status, _, body = call(runtime, "GET", "/v1/me", headers={"Authorization": token} if token else {})
    assert status == 401
    assert json.loads(body) == {"message": "Unauthorized"}
    assert runtime.runner.invocations["IdentityApiFunction"] == before


def test_a_token_below_assurance_level_3_is_refused_by_the_platform(runtime, anna):
    token = resident_token(runtime, anna["personnummer"], assurance_level=2)
    status, _, body = call(runtime, "GET", "/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert status == 401
    assert json.loads(body)["code"] == "unauthenticated"


@pytest.mark.parametrize(
    ("path", "body", "param"),
    [
        ("/dev/idp/resident/token", {"personnummer": "811218-9875"}, "personnummer"),
        ("/dev/idp/resident/token", {"personnummer": "811218-9876", "assurance_level": 9}, "assurance_level"),
        ("/dev/idp/staff/token", {"hsa_id": "nope"}, "hsa_id"),
    ],
)
def test_token_endpoints_refuse_bad_input_with_a_problem(runtime, path, body, param):
    status, _, raw = call(runtime, "POST", path, body)
    assert status == 400
    assert json.loads(raw)["invalid_params"][0]["name"] == param


def test_unknown_routes_are_404(runtime):
    assert call(runtime, "GET", "/v1/nowhere")[0] == 404
    assert call(runtime, "DELETE", "/v1/clinics")[0] == 404


def _aws(runtime, service):
    return boto3.client(
        service,
        endpoint_url=runtime.aws_url,
        region_name="eu-north-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )


def _wait_for(predicate, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_a_feed_message_sent_to_the_queue_reaches_search_through_the_poller(runtime):
    from local_runtime.demo import CATALOGUE

    unit = dict(
        CATALOGUE.units[0], hsa_id="SE2321000016-E2E1", name="Ekskogen Testmottagning E2E", active=True
    )
    _aws(runtime, "sqs").send_message(
        QueueUrl=runtime.deployment.lookup("HsaFeedQueue", None),
        MessageBody=json.dumps(feed_message("care_unit.upserted", unit)),
    )
    assert _wait_for(lambda: get_json(runtime, "/v1/clinics?q=testmottagning")[1]["items"])
    assert get_json(runtime, "/v1/clinics?q=testmottagning")[1]["items"][0]["id"] == "SE2321000016-E2E1"


def test_a_poison_message_reaches_the_dlq_with_its_reason(runtime):
    sqs = _aws(runtime, "sqs")
    sqs.send_message(QueueUrl=runtime.deployment.lookup("HsaFeedQueue", None), MessageBody="{broken")
    dlq = runtime.deployment.lookup("HsaFeedDeadLetterQueue", None)
    found = []

    def dead_lettered():
        found.extend(sqs.receive_message(QueueUrl=dlq, MessageAttributeNames=["All"]).get("Messages", []))
        return bool(found)

    assert _wait_for(dead_lettered)
    assert found[0]["MessageAttributes"]["rejection_reason"]["StringValue"] == "malformed-json"


def test_fifty_concurrent_conditional_writes_of_one_key_have_exactly_one_winner(runtime):
    db = _aws(runtime, "dynamodb")
    table = runtime.deployment.lookup("DirectoryTable", None)
    start = threading.Barrier(50)

    def book(n):
        start.wait()
        try:
            db.put_item(
                TableName=table,
                Item={"pk": {"S": "RACE"}, "sk": {"S": "slot"}, "by": {"N": str(n)}},
                ConditionExpression="attribute_not_exists(pk)",
            )
            return True
        except ClientError as error:
            return error.response["Error"]["Code"]

    with ThreadPoolExecutor(50) as pool:
        results = list(pool.map(book, range(50)))
    assert results.count(True) == 1
    assert results.count("ConditionalCheckFailedException") == 49


def test_concurrent_requests_to_different_functions_each_see_their_own_environment(runtime, anna):
    """The directory function needs DIRECTORY_TABLE_NAME, which the identity function lacks: a leak fails."""
    token = resident_token(runtime, anna["personnummer"])

    def one(n):
        if n % 2:
            return call(runtime, "GET", "/v1/me", headers={"Authorization": f"Bearer {token}"})[0]
        return call(runtime, "GET", "/v1/clinics?region=01&limit=5")[0]

    with ThreadPoolExecutor(16) as pool:
        assert set(pool.map(one, range(80))) == {200}


def test_the_readme_directory_examples_answer_with_demo_data(runtime):
    import re

    from local_runtime.template import REPO_ROOT

    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    paths = re.findall(r"curl\s+'?http://127\.0\.0\.1:3000(/v1/clinics[^'\s]*)", readme)
    assert len(paths) >= 4
    for path in paths:
        status, body = get_json(runtime, urllib.parse.quote(path, safe="/?=&,"))
        assert status == 200, path
        assert body.get("items") or body.get("id"), path


def test_make_run_starts_the_runtime_and_ctrl_c_stops_it_cleanly():
    """The README's first command, as a person runs it (environment present)."""
    import os
    import signal
    import subprocess

    from local_runtime.template import REPO_ROOT

    port, aws_port = free_port(), free_port()
    env = {**os.environ, "PORT": str(port), "AWS_PORT": str(aws_port)}
    env.pop("AWS_ENDPOINT_URL", None)
    process = subprocess.Popen(
        ["make", "--no-print-directory", "run"],
        cwd=REPO_ROOT,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        healthy = _wait_for(lambda: _health_status(port) == 200, timeout=60)
    finally:
        os.killpg(process.pid, signal.SIGINT)
        output, _ = process.communicate(timeout=30)
    assert healthy, output
    assert f"http://127.0.0.1:{port}/dev/login" in output
    assert "stopped." in output and "Traceback" not in output, output
    with socket.socket() as s:
        # Nothing listens any more; SO_REUSEADDR (as servers set it) ignores the closed connections' TIME_WAIT.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
        s.listen()


def _health_status(port):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as response:
            return response.status
    except (urllib.error.URLError, ConnectionError):
        return None


def test_the_readme_identity_walkthrough_shows_each_rule_with_demo_data(runtime):
    """The README's identity block, run as written by bash against this runtime."""
    import re
    import subprocess

    from local_runtime.template import REPO_ROOT

    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    [script] = re.findall(r"<!-- readme-identity-example -->\n```sh\n(.*?)```", readme, flags=re.S)
    script = script.replace("API=http://127.0.0.1:3000", f"API={runtime.base_url}")

    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script], capture_output=True, text=True, timeout=120
    )

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "('Liv Demosson', 'guardian'" in lines[0] and "Siri Demosson" in lines[0]
    assert "Vilgot" not in lines[0], "rule 7"
    assert '"relation":"guardian"' in lines[1].replace(" ", "")
    assert lines[2] == "404"
    assert lines[3] == "['Karin Demolund']" and lines[4] == "['Skyddad Demoperson']"
    assert "block-guardians" in lines[5]
    assert '"patient_id"' in lines[6] and "Demo" in lines[7]
    assert lines[8] == "403"
    assert "Doktor Demo Läkare" in lines[9] and "'lookup'" in lines[9]


def test_the_readme_care_case_walkthrough_renews_a_prescription(runtime):
    """The README's case block, after its identity block (it uses its variables), run by bash."""
    import re
    import subprocess

    from local_runtime.template import REPO_ROOT

    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    [identity] = re.findall(r"<!-- readme-identity-example -->\n```sh\n(.*?)```", readme, flags=re.S)
    [cases] = re.findall(r"<!-- readme-cases-example -->\n```sh\n(.*?)```", readme, flags=re.S)
    script = (identity + cases).replace("API=http://127.0.0.1:3000", f"API={runtime.base_url}")

    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script], capture_output=True, text=True, timeout=120
    )

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert any("renew-prescription" in line for line in lines[-6:]), lines[-6:]
    assert lines[-1].startswith("('closed', {") and "'sent'" in lines[-1], lines[-6:]


def test_the_readme_booking_walkthrough_books_moves_and_cancels(runtime):
    """The README's booking block, after its identity block, run by bash."""
    import re
    import subprocess

    from local_runtime.template import REPO_ROOT

    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    [identity] = re.findall(r"<!-- readme-identity-example -->\n```sh\n(.*?)```", readme, flags=re.S)
    [booking] = re.findall(r"<!-- readme-booking-example -->\n```sh\n(.*?)```", readme, flags=re.S)
    script = (identity + booking).replace("API=http://127.0.0.1:3000", f"API={runtime.base_url}")

    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script], capture_output=True, text=True, timeout=120
    )

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()[-6:]
    assert lines[1] == "(409, 'time-unavailable')", lines
    assert lines[2].startswith("('active', '"), lines
    assert lines[4] == "cancelled", lines
    assert lines[5] == "(403, 'not-eligible')", lines


def test_the_readme_inbox_walkthrough_delivers_a_message_and_notifies_about_it(runtime):
    """The README's inbox block after its identity block, run by bash in the repository (its sending system is
    the project's Python with boto3). The notice is due a minute after the message; meanwhile the test runs
    the dispatcher itself every few seconds (never when the scheduler is about to) rather than waiting up to
    another minute for the schedule."""
    import ast
    import re
    import subprocess
    from datetime import UTC, datetime

    from local_runtime.template import REPO_ROOT
    from notifications import texts

    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    [identity] = re.findall(r"<!-- readme-identity-example -->\n```sh\n(.*?)```", readme, flags=re.S)
    [inbox] = re.findall(r"<!-- readme-inbox-example -->\n```sh\n(.*?)```", readme, flags=re.S)
    script = (
        (identity + inbox)
        .replace("API=http://127.0.0.1:3000", f"API={runtime.base_url}")
        .replace("AWS=http://127.0.0.1:4566", f"AWS={runtime.aws_url}")
    )
    [target] = [t for t in runtime.scheduler.targets if t.function == "NotificationDispatchFunction"]
    done = threading.Event()

    def dispatch_meanwhile():
        while not done.wait(2):
            if (target.next_run - datetime.now(UTC)).total_seconds() > 10:
                runtime.runner.invoke("NotificationDispatchFunction", {})

    dispatcher = threading.Thread(target=dispatch_meanwhile, daemon=True)
    dispatcher.start()
    try:
        result = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=240,
        )
    finally:
        done.set()
        dispatcher.join()

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[-4] == "{'address': '+46701234567', 'verified': False}"
    assert lines[-3] == "{'address': '+46701234567', 'verified': True}"
    assert lines[-2].startswith("[('Ny tid för mammografi', 'Screeningenheten Demo', False), "), lines[-2]
    assert "'Kallelse till mammografi'" in lines[-2] and "'Provsvar'" in lines[-2], "and the demo messages"
    notice, code = ast.literal_eval(lines[-1])
    assert notice == ("sms", "+46701234567", texts.NOTICE_SMS[:44])
    assert code[:2] == ("sms", "+46701234567") and re.search(r"\d{6}", code[2])
