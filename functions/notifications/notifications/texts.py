"""The only texts a notification may carry (rule 25): fixed and generic, never a sender, subject or content."""

from __future__ import annotations

NOTICE_SMS = "Du har fått något nytt i e-tjänsterna. Logga in för att läsa. / You have something new in the e-services."
NOTICE_SUBJECT = "Nytt i e-tjänsterna / New in the e-services"
NOTICE_EMAIL = (
    "Hej!\n\nDu har fått något nytt i e-tjänsterna: ett meddelande, ett svar eller en påminnelse. "
    "Logga in för att läsa det.\n\nHello,\n\nYou have something new in the e-services: a message, an answer "
    "or a reminder. Log in to read it.\n\nDetta meddelande går inte att svara på. / Please do not reply."
)
CODE_SMS = "Din kod för e-tjänsterna: {code} / Your e-services code: {code}"
CODE_SUBJECT = "Din kod för e-tjänsterna / Your e-services code"
CODE_EMAIL = "Din kod för att bekräfta adressen: {code}\n\nYour code to confirm the address: {code}"
