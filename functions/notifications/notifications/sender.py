"""Sends what the dispatcher (or a verification) put on `NotificationSendQueue`: an SMS through SNS or an
e-mail through SES, with only the fixed texts of `texts.py` (rule 25). The address is read here, at the
last moment, so no queue ever carries it. A failed send fails its record: SQS retries it and after five
receives moves it to the DLQ, where operators see it (alarm)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

from eservices_core import aws
from eservices_core.table import Table
from eservices_core.wiring import composition_root
from notifications import texts
from notifications.config import SenderConfig
from notifications.store import NotificationStore

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
    from aws_lambda_powertools.utilities.typing import LambdaContext

logger = Logger(service="notifications-sender")


class Sender:
    def __init__(self, store: NotificationStore, sns: Any, ses: Any, sender_email: str) -> None:
        self.store, self.sns, self.ses, self.sender_email = store, sns, ses, sender_email

    def send(self, request: dict[str, Any]) -> bool:
        """Send one; False when there is no longer an address to send to (settings changed meanwhile)."""
        settings = self.store.settings(request["patient_id"]) or {}
        channel, kind = request["channel"], request["kind"]
        address = settings.get(channel)
        if not address or (kind == "notice" and not settings.get(f"{channel}_verified")):
            return False
        code = str(request.get("code", ""))
        if channel == "mobile":
            text = texts.CODE_SMS.format(code=code) if kind == "code" else texts.NOTICE_SMS
            self.sns.publish(
                PhoneNumber=address,
                Message=text,
                MessageAttributes={
                    "AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}
                },
            )
        else:
            subject = texts.CODE_SUBJECT if kind == "code" else texts.NOTICE_SUBJECT
            body = texts.CODE_EMAIL.format(code=code) if kind == "code" else texts.NOTICE_EMAIL
            self.ses.send_email(
                Source=self.sender_email,
                Destination={"ToAddresses": [address]},
                Message={
                    "Subject": {"Data": subject, "Charset": "UTF-8"},
                    "Body": {"Text": {"Data": body, "Charset": "UTF-8"}},
                },
            )
        return True


@composition_root
def _sender() -> Sender:
    config = SenderConfig.from_env()
    store = NotificationStore(Table(aws.dynamodb(), config.table_name))
    return Sender(store, aws.sns(), aws.ses(), config.sender_email)


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    sender = _sender()

    def record_handler(record: SQSRecord) -> None:
        request = json.loads(record.body)
        if not sender.send(request):
            logger.info(
                "nothing to send to", extra={"channel": request.get("channel"), "kind": request.get("kind")}
            )

    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    return dict(
        process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )
    )
