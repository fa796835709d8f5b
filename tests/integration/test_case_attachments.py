"""Case attachments against the template's bucket in moto: presigned uploads, content checks, downloads.

moto neither enforces a POST policy nor applies a POST's `tagging` field, so the policy is checked by decoding
it, and the browser's upload is simulated with `put_object` carrying exactly what the policy fixes.
"""

from __future__ import annotations

import base64
import json
import logging
import struct
import uuid
import zlib
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest
import requests
from botocore.exceptions import ClientError

from cases.attachments import (
    MAX_SIZE,
    UPLOADED_TAGGING,
    Attachment,
    AttachmentStore,
    content_disposition,
)
from eservices_core.errors import InvalidInput, InvalidParam, NotFound, ServiceUnavailable
from tests.support.aws import upload

PATIENT = "6f1c2a64-0d4e-4a7e-9b51-3c8f3e0a9d11"
OTHER_PATIENT = "0b9d7f3e-5a41-4c2b-8e6d-1f2a3b4c5d6e"


def _png() -> bytes:
    """A real 1x1 PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\x00"))
        + chunk(b"IEND", b"")
    )


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + bytes(64) + b"\xff\xd9"
PNG = _png()
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + bytes(48)
HTML = b"<!doctype html><script>alert(1)</script>"


@pytest.fixture
def s3(stack):
    return stack.session.client("s3")


@pytest.fixture
def bucket(stack):
    return stack.ref("AttachmentsBucket")


@pytest.fixture
def store(s3, bucket):
    return AttachmentStore(s3, bucket)


def presign(store, content_type="image/jpeg", filename="photo.jpg", size=1000, patient=PATIENT):
    return store.presign_upload(patient, content_type=content_type, size=size, filename=filename)


def tags(s3, bucket, key):
    return {t["Key"]: t["Value"] for t in s3.get_object_tagging(Bucket=bucket, Key=key)["TagSet"]}


def stored_versions(s3, bucket, key):
    listed = s3.list_object_versions(Bucket=bucket, Prefix=key)
    return listed.get("Versions", []) + listed.get("DeleteMarkers", [])


def refused(raised, name):
    [param] = raised.value.invalid_params
    assert param.name == name
    return param.reason


# ---- presign -------------------------------------------------------------------------------------------------


def test_presign_returns_a_post_for_the_patients_key_with_the_fixed_fields(store, bucket):
    before = datetime.now(UTC)
    presigned = presign(store, "application/pdf", "Läkarintyg (kopia).pdf", 2048)

    attachment_id = presigned["attachment_id"]
    assert str(uuid.UUID(attachment_id)) == attachment_id
    assert presigned["expires_in"] == 900
    assert bucket in presigned["upload"]["url"]
    fields = presigned["upload"]["fields"]
    key = f"patients/{PATIENT}/attachments/{attachment_id}"
    assert fields["key"] == key
    assert fields["Content-Type"] == "application/pdf"
    assert fields["x-amz-meta-filename"] == quote("Läkarintyg (kopia).pdf", safe="")
    assert fields["tagging"] == UPLOADED_TAGGING
    assert "<Key>state</Key><Value>uploaded</Value>" in fields["tagging"]
    assert {"x-amz-signature", "x-amz-credential", "x-amz-algorithm", "x-amz-date"} <= fields.keys()

    policy = json.loads(base64.b64decode(fields["policy"]))
    conditions = policy["conditions"]
    assert ["content-length-range", 1, 10 * 1024 * 1024] in conditions
    assert {"Content-Type": "application/pdf"} in conditions
    assert {"tagging": UPLOADED_TAGGING} in conditions
    assert {"x-amz-meta-filename": fields["x-amz-meta-filename"]} in conditions
    assert {"key": key} in conditions
    assert {"bucket": bucket} in conditions
    expiration = datetime.fromisoformat(policy["expiration"])
    assert before + timedelta(seconds=890) <= expiration <= datetime.now(UTC) + timedelta(seconds=900)


def test_every_presign_is_a_new_attachment(store):
    assert presign(store)["attachment_id"] != presign(store)["attachment_id"]


@pytest.mark.parametrize("content_type", ["image/gif", "text/html", "IMAGE/JPEG", "application/pdf; x=1", ""])
def test_presign_refuses_other_content_types(store, content_type):
    with pytest.raises(InvalidInput) as raised:
        presign(store, content_type=content_type)
    refused(raised, "content_type")


@pytest.mark.parametrize("size", [0, -1, MAX_SIZE + 1, True, 1.5])
def test_presign_refuses_sizes_outside_one_byte_to_ten_mebibytes(store, size):
    with pytest.raises(InvalidInput) as raised:
        presign(store, size=size)
    refused(raised, "size")


@pytest.mark.parametrize(
    "filename",
    [
        "",
        "a" * 121,
        "../x.pdf",
        "dir/x.pdf",
        "dir\\x.pdf",
        "x\x00.pdf",
        "x\n.pdf",
        "x\x7f.pdf",
        "invoice\u202efdp.exe",
        "..",
    ],
)
def test_presign_refuses_file_names_with_paths_controls_or_bad_lengths(store, filename):
    with pytest.raises(InvalidInput) as raised:
        presign(store, filename=filename)
    reason = refused(raised, "filename")
    assert filename not in reason or not filename  # the name is personal data: never echoed


@pytest.mark.parametrize(
    ("size", "filename"), [(1, "a"), (MAX_SIZE, "a" * 120), (5, "Röntgen 2024-01-01.jpg")]
)
def test_presign_accepts_the_boundaries(store, size, filename):
    assert presign(store, size=size, filename=filename)["expires_in"] == 900


# ---- verify --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content_type", "body", "filename"),
    [
        ("image/jpeg", JPEG, "photo.jpg"),
        ("image/png", PNG, "skärmbild.png"),
        ("application/pdf", PDF, "remiss.pdf"),
    ],
)
def test_verify_accepts_real_content_and_retags_it_as_attached(
    store, s3, bucket, content_type, body, filename
):
    presigned = presign(store, content_type, filename, len(body))
    key = upload(s3, bucket, presigned, body)
    assert tags(s3, bucket, key) == {"state": "uploaded"}

    attachment = store.verify(PATIENT, presigned["attachment_id"])

    assert attachment == Attachment(presigned["attachment_id"], content_type, len(body), filename)
    assert tags(s3, bucket, key) == {"state": "attached"}
    assert store.verify(PATIENT, presigned["attachment_id"]) == attachment  # again: harmless


def test_verify_reads_only_the_first_sixteen_bytes(store, s3, bucket):
    presigned = presign(store, "application/pdf", "big.pdf", len(PDF))
    upload(s3, bucket, presigned, PDF + bytes(4096))
    ranges = []
    s3.meta.events.register(
        "before-call.s3.GetObject", lambda params, **_: ranges.append(params["headers"].get("Range"))
    )
    store.verify(PATIENT, presigned["attachment_id"])
    assert ranges == ["bytes=0-15"]


@pytest.mark.parametrize(
    ("declared", "body", "reason"),
    [
        ("image/jpeg", PNG, "content does not match its declared type"),
        ("image/png", JPEG, "content does not match its declared type"),
        ("image/png", PDF, "content does not match its declared type"),
        ("application/pdf", EXE, "content is not a JPEG, PNG or PDF"),
        ("application/pdf", HTML, "content is not a JPEG, PNG or PDF"),
        ("image/jpeg", b"\xff\xd8", "content is not a JPEG, PNG or PDF"),
    ],
)
def test_verify_refuses_and_deletes_content_that_is_not_what_was_declared(
    store, s3, bucket, declared, body, reason
):
    presigned = presign(store, declared, "x.pdf", len(body))
    key = upload(s3, bucket, presigned, body)

    with pytest.raises(InvalidInput) as raised:
        store.verify(PATIENT, presigned["attachment_id"], field="attachments/0")

    assert raised.value.invalid_params == [InvalidParam("attachments/0", reason)]
    assert stored_versions(s3, bucket, key) == []  # gone for good, not hidden behind a delete marker


def test_a_refused_reupload_leaves_the_verified_version_in_place(store, s3, bucket):
    presigned = presign(store, "image/png", "x.png", len(PNG))
    key = upload(s3, bucket, presigned, PNG)
    store.verify(PATIENT, presigned["attachment_id"])
    upload(s3, bucket, presigned, HTML)  # the same POST form, reused within its 15 minutes

    with pytest.raises(InvalidInput):
        store.verify(PATIENT, presigned["attachment_id"])

    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == PNG
    assert tags(s3, bucket, key) == {"state": "attached"}


def test_verify_refuses_an_empty_object(store, s3, bucket):
    presigned = presign(store)
    upload(s3, bucket, presigned, b"")
    with pytest.raises(InvalidInput) as raised:
        store.verify(PATIENT, presigned["attachment_id"])
    assert refused(raised, "attachments") == "must be between 1 byte and 10 MiB"


def test_verify_accepts_exactly_ten_mebibytes_and_refuses_one_byte_more(store, s3, bucket):
    at_limit = presign(store, size=MAX_SIZE)
    upload(s3, bucket, at_limit, JPEG + bytes(MAX_SIZE - len(JPEG)))
    assert store.verify(PATIENT, at_limit["attachment_id"]).size == MAX_SIZE

    over = presign(store, size=MAX_SIZE)
    key = upload(s3, bucket, over, JPEG + bytes(MAX_SIZE + 1 - len(JPEG)))
    with pytest.raises(InvalidInput) as raised:
        store.verify(PATIENT, over["attachment_id"])
    assert refused(raised, "attachments") == "must be between 1 byte and 10 MiB"
    assert tags(s3, bucket, key) == {"state": "uploaded"}  # left to the lifecycle rule


def test_verify_refuses_an_attachment_that_was_never_uploaded(store):
    with pytest.raises(InvalidInput) as raised:
        store.verify(PATIENT, presign(store)["attachment_id"])
    assert refused(raised, "attachments") == "has not been uploaded"


def test_another_patients_attachment_has_simply_not_been_uploaded(store, s3, bucket):
    presigned = presign(store, patient=OTHER_PATIENT)
    key = upload(s3, bucket, presigned, JPEG)

    with pytest.raises(InvalidInput) as raised:
        store.verify(PATIENT, presigned["attachment_id"])

    assert refused(raised, "attachments") == "has not been uploaded"
    assert tags(s3, bucket, key) == {"state": "uploaded"}


@pytest.mark.parametrize(
    "attachment_id",
    [
        "",
        "not-a-uuid",
        "../../" + OTHER_PATIENT,
        "6F1C2A64-0D4E-4A7E-9B51-3C8F3E0A9D11",
        "6f1c2a640d4e4a7e9b513c8f3e0a9d11",
        "{6f1c2a64-0d4e-4a7e-9b51-3c8f3e0a9d11}",
    ],
)
def test_verify_refuses_ids_that_are_not_canonical_uuids(store, attachment_id):
    with pytest.raises(InvalidInput) as raised:
        store.verify(PATIENT, attachment_id, field="attachments/2")
    assert raised.value.invalid_params == [InvalidParam("attachments/2", "is not an attachment id")]


def test_a_file_name_without_valid_metadata_falls_back_to_the_id(store, s3, bucket):
    presigned = presign(store, "image/png", "x.png", len(PNG))
    s3.put_object(Bucket=bucket, Key=presigned["upload"]["fields"]["key"], Body=PNG, ContentType="image/png")
    attachment = store.verify(PATIENT, presigned["attachment_id"])
    assert attachment.filename == presigned["attachment_id"] + ".png"


def _after_once(s3, operation, action):
    done: list[bool] = []

    def after_call(**_):
        if not done:
            done.append(True)
            action()

    s3.meta.events.register(f"after-call.s3.{operation}", after_call)


def test_verify_checks_the_version_it_saw_even_when_a_good_reupload_races_it(store, s3, bucket):
    presigned = presign(store, "application/pdf", "x.pdf", len(HTML))
    key = upload(s3, bucket, presigned, HTML)
    _after_once(s3, "HeadObject", lambda: upload(s3, bucket, presigned, PDF))

    with pytest.raises(InvalidInput) as raised:
        store.verify(PATIENT, presigned["attachment_id"])

    assert refused(raised, "attachments") == "content is not a JPEG, PNG or PDF"
    [left] = stored_versions(s3, bucket, key)  # only the bad version was deleted
    assert s3.get_object(Bucket=bucket, Key=key, VersionId=left["VersionId"])["Body"].read() == PDF
    assert tags(s3, bucket, key) == {"state": "uploaded"}  # and the racing upload is not attached unchecked


def test_verify_attaches_the_version_it_checked_not_one_uploaded_meanwhile(store, s3, bucket):
    presigned = presign(store, "application/pdf", "x.pdf", len(PDF))
    key = upload(s3, bucket, presigned, PDF)
    checked = s3.head_object(Bucket=bucket, Key=key)["VersionId"]
    _after_once(s3, "GetObject", lambda: upload(s3, bucket, presigned, HTML))

    store.verify(PATIENT, presigned["attachment_id"])

    assert tags(s3, bucket, key) == {"state": "uploaded"}  # the racing HTML
    attached = s3.get_object_tagging(Bucket=bucket, Key=key, VersionId=checked)["TagSet"]
    assert attached == [{"Key": "state", "Value": "attached"}]
    with pytest.raises(NotFound):
        store.download_url(PATIENT, presigned["attachment_id"])


# ---- S3 failures ---------------------------------------------------------------------------------------------


def _fail(s3, operation, code, status):
    response: Any = {"Error": {"Code": code, "Message": "injected"}}
    if status is not None:
        response["ResponseMetadata"] = {"HTTPStatusCode": status}

    def before_call(**_):
        raise ClientError(response, operation)

    s3.meta.events.register(f"before-call.s3.{operation}", before_call)


@pytest.mark.parametrize(
    ("operation", "code", "status"),
    [
        ("HeadObject", "SlowDown", 503),
        ("GetObject", "InternalError", 500),
        ("PutObjectTagging", "ServiceUnavailable", 503),
        ("HeadObject", "503", 503),
        ("HeadObject", "SlowDown", None),  # by its code alone
        ("GetObject", "SomethingNew", 502),  # by its status alone
    ],
)
def test_throttling_and_s3_faults_are_service_unavailable(store, s3, bucket, operation, code, status):
    presigned = presign(store)
    key = upload(s3, bucket, presigned, JPEG)
    _fail(s3, operation, code, status)

    with pytest.raises(ServiceUnavailable):
        store.verify(PATIENT, presigned["attachment_id"])
    assert tags(s3, bucket, key) == {"state": "uploaded"}


def test_a_failed_delete_is_service_unavailable_so_the_check_is_retried(store, s3, bucket):
    presigned = presign(store, "application/pdf", "x.pdf", len(HTML))
    key = upload(s3, bucket, presigned, HTML)
    _fail(s3, "DeleteObject", "SlowDown", 503)

    with pytest.raises(ServiceUnavailable):
        store.verify(PATIENT, presigned["attachment_id"])
    assert tags(s3, bucket, key) == {"state": "uploaded"}  # never attached


def test_other_s3_errors_propagate(store, s3, bucket):
    presigned = presign(store)
    upload(s3, bucket, presigned, JPEG)
    _fail(s3, "HeadObject", "AccessDenied", 403)
    with pytest.raises(ClientError):
        store.verify(PATIENT, presigned["attachment_id"])


def test_file_names_never_reach_the_logs(store, s3, bucket, caplog):
    caplog.set_level(logging.DEBUG)
    secret = "cancer-remiss.pdf"
    presigned = presign(store, "application/pdf", secret, len(EXE))
    upload(s3, bucket, presigned, EXE)
    with pytest.raises(InvalidInput) as raised:
        store.verify(PATIENT, presigned["attachment_id"])
    ours = [r for r in caplog.records if not r.name.startswith(("botocore", "boto3", "urllib3", "moto"))]
    assert all("remiss" not in r.getMessage() for r in ours)
    assert "remiss" not in str(raised.value)


# ---- download ------------------------------------------------------------------------------------------------


def test_download_url_is_a_presigned_get_of_the_verified_version_saved_under_its_name(store, s3, bucket):
    filename = 'Läkarintyg "slutlig".pdf'
    presigned = presign(store, "application/pdf", filename, len(PDF))
    key = upload(s3, bucket, presigned, PDF)
    store.verify(PATIENT, presigned["attachment_id"])
    version = s3.head_object(Bucket=bucket, Key=key)["VersionId"]

    url = store.download_url(PATIENT, presigned["attachment_id"])

    parts = urlsplit(url)
    query = {k: v for k, [v] in parse_qs(parts.query).items()}
    assert bucket in parts.netloc + parts.path
    assert parts.path.endswith("/" + key)
    assert query["X-Amz-Expires"] == "300"
    assert query["versionId"] == version
    disposition = query["response-content-disposition"]
    assert disposition == content_disposition(filename)
    assert disposition.startswith("attachment; filename=\"L_karintyg _slutlig_.pdf\"; filename*=UTF-8''")
    fetched = requests.get(url, timeout=5)
    assert fetched.status_code == 200
    assert fetched.content == PDF
    assert fetched.headers["Content-Disposition"] == disposition


def test_download_url_takes_its_expiry(store, s3, bucket):
    presigned = presign(store, "image/png", "x.png", len(PNG))
    upload(s3, bucket, presigned, PNG)
    store.verify(PATIENT, presigned["attachment_id"])
    url = store.download_url(PATIENT, presigned["attachment_id"], expires_in=60)
    assert parse_qs(urlsplit(url).query)["X-Amz-Expires"] == ["60"]


def test_only_verified_attachments_of_the_patient_can_be_downloaded(store, s3, bucket):
    unverified = presign(store)
    upload(s3, bucket, unverified, JPEG)
    others = presign(store, patient=OTHER_PATIENT)
    upload(s3, bucket, others, JPEG)
    store.verify(OTHER_PATIENT, others["attachment_id"])

    for attachment_id in (unverified["attachment_id"], others["attachment_id"], str(uuid.uuid4()), "nope"):
        with pytest.raises(NotFound):
            store.download_url(PATIENT, attachment_id)


def test_bytes_reuploaded_after_verification_are_never_served(store, s3, bucket):
    presigned = presign(store, "application/pdf", "x.pdf", len(PDF))
    upload(s3, bucket, presigned, PDF)
    store.verify(PATIENT, presigned["attachment_id"])
    upload(s3, bucket, presigned, b"%PDF-" + HTML)  # same form, within its 15 minutes

    with pytest.raises(NotFound):
        store.download_url(PATIENT, presigned["attachment_id"])
