"""Residents' attachments: uploaded straight to S3 with presigned POSTs, checked from their bytes before use.

Every object lives at `patients/<patient id>/attachments/<attachment id>`, and the patient id always comes
from the authenticated caller, so another patient's attachment id is simply not there: object-level
authorization is structural, not a check that could be forgotten.

Life of an attachment:
1. `presign_upload` validates what the resident declares and returns a POST form whose policy fixes the key,
   the exact Content-Type, the size range, the file name and the tag `state=uploaded`. The bucket's default
   encryption (SSE-KMS) applies; its lifecycle rule expires `state=uploaded` objects after 2 days, so
   abandoned uploads clean themselves up.
2. `verify` (when a case refers to the attachment) reads the first 16 bytes and sniffs the type; a mismatch
   deletes that version of the object. A good one is tagged `state=attached`, so the lifecycle rule keeps it.
   HEAD, GET, tagging and delete are pinned to the version HEAD saw, so a re-upload racing with the check
   cannot slip in unchecked bytes.
3. `download_url` presigns a GET of the current version, only if that version is `state=attached`, with a
   `Content-Disposition: attachment` so browsers save rather than render it.

File names are personal data here ("remiss-onkologi.pdf"): nothing in this module logs them or the
contents, and no error message repeats them. In S3 metadata the name is percent-encoded (UTF-8), because
S3 metadata travels in HTTP headers, which are ASCII.
"""

from __future__ import annotations

import unicodedata
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import quote, unquote

from eservices_core.aws import error_code, is_transient
from eservices_core.errors import InvalidInput, NotFound, ServiceUnavailable

MAX_SIZE: Final = 10 * 1024 * 1024
UPLOAD_EXPIRES_IN: Final = 900
MAX_FILENAME_LENGTH: Final = 120
ALLOWED_CONTENT_TYPES: Final = ("image/jpeg", "image/png", "application/pdf")

STATE_TAG: Final = "state"
UPLOADED: Final = "uploaded"
ATTACHED: Final = "attached"
# A POST upload's `tagging` field is an XML document (the REST API's query-string form is not accepted there).
UPLOADED_TAGGING: Final = (
    f"<Tagging><TagSet><Tag><Key>{STATE_TAG}</Key><Value>{UPLOADED}</Value></Tag></TagSet></Tagging>"
)

_SNIFF_BYTES: Final = 16
_SIGNATURES: Final = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"%PDF-", "application/pdf"),
)
_EXTENSIONS: Final = {"image/jpeg": ".jpg", "image/png": ".png", "application/pdf": ".pdf"}
# Control, format (e.g. U+202E, which makes "fdp.exe" display as "exe.pdf"), surrogate and line separators.
_FORBIDDEN_CATEGORIES: Final = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})

# HEAD answers a missing key with a bare 404; GET and tagging with NoSuchKey; a pinned version with NoSuchVersion.
_NOT_FOUND_CODES: Final = frozenset({"404", "NoSuchKey", "NoSuchVersion", "NotFound"})
_S3_UNAVAILABLE_CODES: Final = frozenset(
    {"SlowDown", "ServiceUnavailable", "InternalError", "RequestTimeout", "500", "503"}
)
_NETWORK_ERRORS: Final = frozenset({"ConnectTimeoutError", "ConnectionClosedError", "ResponseStreamingError"})
_BUSY: Final = "The attachment store is busy; try again"


@dataclass(frozen=True, slots=True)
class Attachment:
    """A verified attachment: its content type is what its bytes are, not only what the client declared."""

    attachment_id: str
    content_type: str
    size: int
    filename: str


class _Missing(Exception):
    """The object (or the pinned version of it) does not exist."""


class AttachmentStore:
    def __init__(self, s3_client: Any, bucket_name: str) -> None:
        self._s3 = s3_client
        self._bucket = bucket_name

    def presign_upload(
        self, patient_id: str, *, content_type: str, size: int, filename: str
    ) -> dict[str, Any]:
        """A presigned POST for one new attachment (no AWS call: signing is local).

        `size` is what the client declares; the policy lets S3 itself refuse anything outside 1 byte..10 MiB.
        """
        if content_type not in ALLOWED_CONTENT_TYPES:
            raise InvalidInput.for_param("content_type", "must be image/jpeg, image/png or application/pdf")
        if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_SIZE:
            raise InvalidInput.for_param("size", "must be between 1 byte and 10 MiB")
        if not is_valid_filename(filename):
            raise InvalidInput.for_param(
                "filename",
                f"must be 1-{MAX_FILENAME_LENGTH} characters without path separators or control characters",
            )
        attachment_id = str(uuid.uuid4())
        fields = {
            "Content-Type": content_type,
            "x-amz-meta-filename": quote(filename, safe=""),
            "tagging": UPLOADED_TAGGING,
        }
        upload: dict[str, Any] = self._s3.generate_presigned_post(
            Bucket=self._bucket,
            Key=attachment_key(patient_id, attachment_id),
            Fields=fields,
            Conditions=[
                *({name: value} for name, value in fields.items()),
                ["content-length-range", 1, MAX_SIZE],
            ],
            ExpiresIn=UPLOAD_EXPIRES_IN,
        )
        return {
            "attachment_id": attachment_id,
            "upload": {"url": upload["url"], "fields": upload["fields"]},
            "expires_in": UPLOAD_EXPIRES_IN,
        }

    def verify(self, patient_id: str, attachment_id: str, *, field: str = "attachments") -> Attachment:
        """Check an uploaded attachment's bytes and keep it (HEAD, ranged GET, PutObjectTagging).

        Content that is not a JPEG, PNG or PDF, or not the type it was declared as, is deleted and refused.
        Verifying an attachment again is harmless.
        """
        if not is_attachment_id(attachment_id):
            raise InvalidInput.for_param(field, "is not an attachment id")
        key = attachment_key(patient_id, attachment_id)
        try:
            with _s3_errors():
                head = self._s3.head_object(Bucket=self._bucket, Key=key)
            version = _version_of(head)
            size = int(head["ContentLength"])
            if not 1 <= size <= MAX_SIZE:
                raise InvalidInput.for_param(field, "must be between 1 byte and 10 MiB")
            with _s3_errors():
                got = self._s3.get_object(
                    Bucket=self._bucket, Key=key, Range=f"bytes=0-{_SNIFF_BYTES - 1}", **version
                )
                try:
                    start = got["Body"].read()
                finally:
                    got["Body"].close()
            sniffed = sniff(start)
            if sniffed is None:
                self._delete(key, version)
                raise InvalidInput.for_param(field, "content is not a JPEG, PNG or PDF")
            if sniffed != head.get("ContentType"):
                self._delete(key, version)
                raise InvalidInput.for_param(field, "content does not match its declared type")
            with _s3_errors():
                self._s3.put_object_tagging(
                    Bucket=self._bucket,
                    Key=key,
                    Tagging={"TagSet": [{"Key": STATE_TAG, "Value": ATTACHED}]},
                    **version,
                )
            return Attachment(attachment_id, sniffed, size, _stored_filename(head, attachment_id, sniffed))
        except _Missing:
            raise InvalidInput.for_param(field, "has not been uploaded") from None

    def download_url(self, patient_id: str, attachment_id: str, *, expires_in: int = 300) -> str:
        """A presigned GET of a verified attachment that browsers download as its file name.

        Two reads (GetObjectTagging, HEAD), both of the current version, which the URL is then pinned to:
        bytes that were re-uploaded after verification are never served.
        """
        if not 1 <= expires_in <= 7 * 24 * 3600:
            raise ValueError("expires_in must be between 1 second and 7 days")
        if not is_attachment_id(attachment_id):
            raise NotFound("No such attachment")
        key = attachment_key(patient_id, attachment_id)
        try:
            with _s3_errors():
                tagging = self._s3.get_object_tagging(Bucket=self._bucket, Key=key)
                version = _version_of(tagging)
                if {"Key": STATE_TAG, "Value": ATTACHED} not in tagging.get("TagSet", []):
                    raise _Missing
                head = self._s3.head_object(Bucket=self._bucket, Key=key, **version)
        except _Missing:
            raise NotFound("No such attachment") from None
        filename = _stored_filename(head, attachment_id, head.get("ContentType"))
        url: str = self._s3.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self._bucket,
                "Key": key,
                "ResponseContentDisposition": content_disposition(filename),
                **version,
            },
            ExpiresIn=expires_in,
        )
        return url

    def _delete(self, key: str, version: dict[str, str]) -> None:
        """Delete the checked version for good (a plain delete in a versioned bucket keeps the bytes)."""
        try:
            with _s3_errors():
                self._s3.delete_object(Bucket=self._bucket, Key=key, **version)
        except _Missing:
            pass


def attachment_key(patient_id: str, attachment_id: str) -> str:
    if not patient_id or "/" in patient_id:
        raise ValueError("patient_id must be a non-empty id without '/'")
    return f"patients/{patient_id}/attachments/{attachment_id}"


def is_attachment_id(value: object) -> bool:
    """A UUID in its canonical lower-case form, which is how `presign_upload` issues them."""
    if not isinstance(value, str):
        return False
    try:
        return str(uuid.UUID(value)) == value
    except ValueError:
        return False


def is_valid_filename(value: object) -> bool:
    return (
        isinstance(value, str)
        and 1 <= len(value) <= MAX_FILENAME_LENGTH
        and value not in {".", ".."}
        and not any(c in "/\\" or unicodedata.category(c) in _FORBIDDEN_CATEGORIES for c in value)
    )


def sniff(start: bytes) -> str | None:
    """The content type the first bytes show, or None when they are not a JPEG, PNG or PDF."""
    for signature, content_type in _SIGNATURES:
        if start.startswith(signature):
            return content_type
    return None


def content_disposition(filename: str) -> str:
    """RFC 6266: an ASCII fallback for old clients and the exact UTF-8 name (RFC 8187) for the rest."""
    fallback = "".join(c if " " <= c <= "~" and c not in '"\\%' else "_" for c in filename)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def _stored_filename(head: dict[str, Any], attachment_id: str, content_type: str | None) -> str:
    """The name from the upload's metadata; an object that somehow lacks a valid one is named by its id."""
    stored = head.get("Metadata", {}).get("filename")
    try:
        name = unquote(stored, errors="strict") if isinstance(stored, str) else None
    except UnicodeDecodeError:
        name = None
    if name is not None and is_valid_filename(name):
        return name
    return attachment_id + _EXTENSIONS.get(content_type or "", "")


def _version_of(response: dict[str, Any]) -> dict[str, str]:
    """`VersionId=...` to pin later calls to the version just seen (nothing when the bucket is unversioned)."""
    version = response.get("VersionId")
    return {"VersionId": str(version)} if version else {}


@contextmanager
def _s3_errors() -> Iterator[None]:
    """Not found becomes `_Missing`; throttling and S3 faults become `ServiceUnavailable`; the rest propagates."""
    try:
        yield
    except _Missing:
        raise
    except Exception as error:
        if error_code(error) in _NOT_FOUND_CODES:
            raise _Missing from error
        if _is_unavailable(error):
            raise ServiceUnavailable(_BUSY) from error
        raise


def _is_unavailable(error: BaseException) -> bool:
    if is_transient(error) or error_code(error) in _S3_UNAVAILABLE_CODES:
        return True
    if error.__class__.__name__ in _NETWORK_ERRORS:
        return True
    response = getattr(error, "response", None)
    status = (
        response.get("ResponseMetadata", {}).get("HTTPStatusCode") if isinstance(response, dict) else None
    )
    return isinstance(status, int) and status >= 500
