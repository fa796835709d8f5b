"""What the platform sent as SMS (SNS) and e-mail (SES), as moto captured it: nothing leaves the machine.
The local runtime's development page and the tests read it here."""

from __future__ import annotations

from dataclasses import dataclass

from local_runtime.template import PSEUDO_PARAMETERS

ACCOUNT = PSEUDO_PARAMETERS["AWS::AccountId"]
REGION = PSEUDO_PARAMETERS["AWS::Region"]


@dataclass(frozen=True, slots=True)
class Sent:
    channel: str  # "sms" or "email"
    to: str
    subject: str
    text: str


def sent(account: str = ACCOUNT, region: str = REGION) -> list[Sent]:
    """Every SMS and e-mail sent so far in the emulated account, in order per channel."""
    from moto.ses.models import ses_backends
    from moto.sns.models import sns_backends

    sms = [
        Sent("sms", phone, "", text) for phone, text in sns_backends[account][region].sms_messages.values()
    ]
    mail = [
        Sent("email", ", ".join(m.destinations.get("ToAddresses", [])), m.subject, m.body)
        for m in ses_backends[account][region].sent_messages
    ]
    return sms + mail
