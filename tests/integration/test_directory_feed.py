"""The HSA catalogue feed: applying, ordering, idempotency, and dead-lettering with a reason."""

from __future__ import annotations

import copy

import pytest
from botocore.exceptions import ClientError

from local_runtime.generate import catalogue, feed_message
from tests.integration.directory_helpers import feed, read, search, search_all
from tests.support.aws import count_calls, fail_first_call
from tests.support.events import json_body

CAT = catalogue(6, seed=7)
PROVIDER = CAT.providers[0]


def unit(**changes):
    data = copy.deepcopy(CAT.units[0])
    data.update(active=True, care_provider_hsa_id=PROVIDER["hsa_id"])
    data.update(changes)
    return data


def stored_items(stack):
    return stack.session.client("dynamodb").scan(TableName=stack.ref("DirectoryTable"))["Items"]


def test_a_unit_and_its_provider_are_published(stack):
    u = unit(name="Vårdcentralen Lindbacka")
    result = feed(
        stack, feed_message("care_provider.upserted", PROVIDER), feed_message("care_unit.upserted", u)
    )

    assert result == {"batchItemFailures": []}
    response = read(stack, u["hsa_id"])
    assert response["statusCode"] == 200
    body = json_body(response)
    assert body["name"] == "Vårdcentralen Lindbacka"
    assert body["care_provider"] == {"id": PROVIDER["hsa_id"], "name": PROVIDER["name"]}
    assert body["address"] == u["address"]
    assert body["opening_hours"] == u["opening_hours"]
    assert body["region"]["code"] == u["region_code"]


def test_a_unit_arriving_before_its_provider_is_published_without_the_provider_name(stack):
    u = unit()
    feed(stack, feed_message("care_unit.upserted", u))
    assert json_body(read(stack, u["hsa_id"]))["care_provider"] == {"id": PROVIDER["hsa_id"], "name": None}


def test_an_older_change_arriving_late_is_ignored_and_a_duplicate_changes_nothing(stack):
    newer = feed_message("care_unit.upserted", unit(name="Nytt Namn"), seconds=20)
    older = feed_message("care_unit.upserted", unit(name="Gammalt Namn"), seconds=10)

    assert feed(stack, newer, older, newer) == {"batchItemFailures": []}

    assert json_body(read(stack, unit()["hsa_id"]))["name"] == "Nytt Namn"
    assert json_body(search(stack, {"q": "gammalt"}))["items"] == []
    assert [i["name"] for i in json_body(search(stack, {"q": "nytt"}))["items"]] == ["Nytt Namn"]


def test_a_change_of_name_region_and_place_reindexes_the_unit(stack):
    u = unit(
        name="Tallmora Hälsocentral",
        region_code="01",
        municipality={"code": "0180", "name": "Stockholm"},
        location={"lat": 59.33, "lon": 18.07},
    )
    moved = unit(
        name="Kvarnby Hälsocentral",
        region_code="12",
        municipality={"code": "1280", "name": "Malmö"},
        location={"lat": 55.60, "lon": 13.00},
    )
    feed(
        stack,
        feed_message("care_unit.upserted", u, seconds=1),
        feed_message("care_unit.upserted", moved, seconds=2),
    )

    assert json_body(search(stack, {"q": "tallmora"}))["items"] == []
    assert json_body(search(stack, {"region": "01"}))["items"] == []
    assert json_body(search(stack, {"near": "59.33,18.07"}))["items"] == []
    assert [i["id"] for i in json_body(search(stack, {"region": "12", "q": "kvarnby"}))["items"]] == [
        u["hsa_id"]
    ]
    assert [i["id"] for i in json_body(search(stack, {"near": "55.60,13.00"}))["items"]] == [u["hsa_id"]]
    index_entries = [i for i in stored_items(stack) if not i["pk"]["S"].startswith(("UNIT#", "CELL#"))]
    assert {i["name"]["S"] for i in index_entries} == {"Kvarnby Hälsocentral"}


def test_an_inactive_unit_leaves_search_but_can_still_be_read(stack):
    feed(
        stack,
        feed_message("care_unit.upserted", unit(), seconds=1),
        feed_message("care_unit.upserted", unit(active=False), seconds=2),
    )

    assert json_body(search(stack, {}))["items"] == []
    assert (
        json_body(search(stack, {"near": f"{unit()['location']['lat']},{unit()['location']['lon']}"}))[
            "items"
        ]
        == []
    )
    assert json_body(read(stack, unit()["hsa_id"]))["active"] is False


def test_a_removed_unit_is_gone_and_a_late_older_upsert_does_not_revive_it(stack):
    u = unit()
    feed(
        stack,
        feed_message("care_unit.upserted", u, seconds=1),
        feed_message("care_unit.removed", u["hsa_id"], seconds=5),
        feed_message("care_unit.upserted", u, seconds=3),
    )

    response = read(stack, u["hsa_id"])
    assert response["statusCode"] == 404
    assert response["headers"]["Content-Type"] == "application/problem+json"
    assert json_body(search(stack, {}))["items"] == []
    leftovers = [i["pk"]["S"] for i in stored_items(stack) if i["pk"]["S"].startswith(("IDX#", "TERM#"))]
    assert leftovers == []


@pytest.mark.parametrize(
    ("body", "reason", "detail_mentions"),
    [
        ("{not json", "malformed-json", "Expecting"),
        (
            {"message_id": "m1", "type": "care_unit.upserted", "changed_at": "2026-01-01T00:00:00Z"},
            "contract-violation",
            "care_unit",
        ),
        (
            feed_message("care_unit.upserted", unit(location={"lat": 91, "lon": 18})),
            "contract-violation",
            "lat",
        ),
        (feed_message("care_unit.upserted", unit(hsa_id="SE12-X")), "contract-violation", "hsa_id"),
        (feed_message("care_unit.upserted", unit(kind="spa")), "contract-violation", "kind"),
        (
            feed_message(
                "care_unit.upserted",
                unit(region_code="12", municipality={"code": "0180", "name": "Stockholm"}),
            ),
            "domain-violation",
            "0180 is not in region 12",
        ),
        (
            feed_message(
                "care_unit.upserted",
                unit(opening_hours=[{"day": "monday", "opens": "17:00", "closes": "08:00"}]),
            ),
            "domain-violation",
            "close before they open",
        ),
        (
            feed_message("care_unit.removed", {"hsa_id": "SE2321000016-X"}) | {"hsa_id": "SE2321000016-X"},
            "contract-violation",
            "care_unit",
        ),
    ],
    ids=[
        "not-json",
        "missing-unit",
        "latitude",
        "hsa-id",
        "kind",
        "municipality-outside-region",
        "hours",
        "mixed",
    ],
)
def test_a_message_that_can_never_apply_goes_to_the_dlq_with_its_reason_and_changes_nothing(
    stack, body, reason, detail_mentions
):
    result = feed(stack, body)

    assert result == {"batchItemFailures": []}, "a poison message must not be retried"
    [dead] = stack.drain("HsaFeedDeadLetterQueue")
    attributes = {k: v["StringValue"] for k, v in dead["MessageAttributes"].items()}
    assert attributes["rejection_reason"] == reason
    assert detail_mentions in attributes["rejection_detail"]
    assert attributes["source_queue_arn"] == stack.arn("HsaFeedQueue")
    assert dead["Body"] == (body if isinstance(body, str) else dead["Body"])
    assert stored_items(stack) == []


def test_good_messages_in_a_batch_apply_while_the_poison_one_is_dead_lettered(stack):
    good = [
        feed_message("care_unit.upserted", unit(hsa_id=u["hsa_id"], name=f"Solvik {n}"))
        for n, u in enumerate(CAT.units[:3])
    ]
    result = feed(stack, good[0], "garbage", good[1], good[2])

    assert result == {"batchItemFailures": []}
    assert len(stack.drain("HsaFeedDeadLetterQueue")) == 1
    assert len(json_body(search(stack, {"q": "solvik"}))["items"]) == 3


def test_a_throttled_write_is_reported_as_a_batch_failure_and_nothing_half_applies(stack, monkeypatch):
    from directory.store import DirectoryStore

    def throttled(self, actions):
        raise ClientError(
            {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}},
            "TransactWriteItems",
        )

    monkeypatch.setattr(DirectoryStore, "_transact", throttled)
    u = unit()
    result = feed(stack, feed_message("care_unit.upserted", u))

    assert len(result["batchItemFailures"]) == 1, "SQS must redeliver it"
    assert stack.drain("HsaFeedDeadLetterQueue") == [], "a transient failure is not dead-lettered at once"
    assert stored_items(stack) == []


def test_after_max_receives_a_failing_message_is_redriven_to_the_dlq(stack):
    """The queue's redrive (from the template) catches what keeps failing: nothing is lost."""
    sqs = stack.session.client("sqs")
    url = stack.ref("HsaFeedQueue")
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "0"})
    sqs.send_message(QueueUrl=url, MessageBody="{}")
    receives = 0
    while sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0).get("Messages"):
        receives += 1  # never deleted: as if the consumer failed every time
        assert receives <= 10
    assert receives == 5
    assert len(stack.drain("HsaFeedDeadLetterQueue")) == 1


def test_providers_are_updated_and_removed(stack):
    u = unit()
    renamed = PROVIDER | {"name": "Nytt Vårdbolag (fiktiv)"}
    feed(
        stack,
        feed_message("care_unit.upserted", u),
        feed_message("care_provider.upserted", PROVIDER, seconds=1),
        feed_message("care_provider.upserted", renamed, seconds=2),
    )
    assert json_body(read(stack, u["hsa_id"]))["care_provider"]["name"] == "Nytt Vårdbolag (fiktiv)"

    feed(stack, feed_message("care_provider.removed", PROVIDER["hsa_id"], seconds=3))
    assert json_body(read(stack, u["hsa_id"]))["care_provider"]["name"] is None


def test_a_unit_whose_name_matches_twice_is_listed_once(stack):
    [u] = catalogue(1, seed=3).units
    feed(
        stack, feed_message("care_unit.upserted", u | {"name": "Solberga Solgläntan Solvik", "active": True})
    )
    assert [i["id"] for i in search_all(stack, {"q": "sol", "limit": "1"})] == [u["hsa_id"]]


def test_a_batch_reads_the_stored_versions_of_its_objects_in_one_batch_get(stack):
    units = [unit(hsa_id=u["hsa_id"], name=f"Läsning Framåt {i}") for i, u in enumerate(CAT.units)]
    messages = [feed_message("care_provider.upserted", PROVIDER)]
    messages += [feed_message("care_unit.upserted", u) for u in units]

    with count_calls() as calls:
        assert feed(stack, *messages) == {"batchItemFailures": []}

    assert sorted(calls) == ["BatchGetItem"] + ["TransactWriteItems"] * len(messages)
    assert [json_body(read(stack, u["hsa_id"]))["name"] for u in units] == [u["name"] for u in units]


def test_when_the_read_ahead_is_throttled_each_change_reads_its_own_and_applies(stack):
    first, second = unit(name="Strypt Första"), unit(hsa_id=CAT.units[1]["hsa_id"], name="Strypt Andra")
    messages = [feed_message("care_unit.upserted", u) for u in (first, second)]

    with (
        fail_first_call("dynamodb", "BatchGetItem", "ProvisionedThroughputExceededException") as failed,
        count_calls() as calls,
    ):
        assert feed(stack, *messages) == {"batchItemFailures": []}

    assert failed == ["BatchGetItem"] and calls.count("GetItem") == 2
    assert [json_body(read(stack, u["hsa_id"]))["name"] for u in (first, second)] == [
        "Strypt Första",
        "Strypt Andra",
    ]
