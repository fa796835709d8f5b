"""The local runtime's development pages: the login page of the development identity providers (pick a demo
identity, get a token, call the API) and what the platform sent as SMS and e-mail."""

from __future__ import annotations

import html
import json
from typing import Any

PAGE = """<!doctype html>
<html lang="sv"><head><meta charset="utf-8"><title>Demo login - open e-services (local)</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{{font-family:system-ui,sans-serif;max-width:56rem;margin:2rem auto;padding:0 1rem;color:#1b1b1b}}
h1{{font-size:1.5rem}} table{{border-collapse:collapse;width:100%}} td,th{{text-align:left;padding:.4rem;border-bottom:1px solid #ddd}}
button{{padding:.3rem .8rem}} pre{{background:#f4f4f4;padding:1rem;white-space:pre-wrap;word-break:break-all}}
.note{{color:#555}}
</style></head><body>
<h1>Development login (local runtime only)</h1>
<p class="note">Fictional demo identities. The tokens are signed by the local e-ID and SITHS test providers and
are accepted only by this local runtime.</p>
<h2>Residents (e-ID, assurance level 3)</h2>
<table><tr><th>Name</th><th>Born</th><th>Guardian of</th><th></th></tr>{residents}</table>
<h2>Staff (SITHS)</h2>
<table><tr><th>Name</th><th>HSA-ID</th><th>Commissions</th><th></th></tr>{staff}</table>
<h2 id="out-title" hidden>Your token</h2><pre id="out" hidden></pre>
<script>
async function login(kind, body) {{
  const r = await fetch('/dev/idp/' + kind + '/token', {{method: 'POST', headers: {{'Content-Type': 'application/json'}}, body: JSON.stringify(body)}});
  const t = await r.json();
  const out = document.getElementById('out');
  const path = kind === 'resident' ? '/v1/me' : '/v1/staff/me';
  out.textContent = t.access_token ? 'export TOKEN=' + t.access_token + '\\n\\ncurl -H "Authorization: Bearer $TOKEN" ' + location.origin + path : JSON.stringify(t, null, 2);
  out.hidden = false; document.getElementById('out-title').hidden = false; out.scrollIntoView();
}}
</script></body></html>"""


def login_page(identities: dict[str, Any]) -> str:
    names = {p["personnummer"]: p["name"] for p in identities["residents"]}
    residents = "".join(
        f"<tr><td>{html.escape(p['name'])}{' (skyddad identitet)' if p['protected_identity'] else ''}</td>"
        f"<td>{p['birth_date']}</td><td>{html.escape(', '.join(names.get(c, '') for c in p['guardian_of']))}</td>"
        f"<td><button onclick='login(\"resident\", {html.escape(json.dumps({'personnummer': p['personnummer']}))})'>"
        f"Log in</button></td></tr>"
        for p in identities["residents"]
    )
    staff = "".join(
        f"<tr><td>{html.escape(s['name'])}</td><td>{html.escape(s['hsa_id'])}</td>"
        f"<td>{len(s['commissions'])}</td>"
        f"<td><button onclick='login(\"staff\", {html.escape(json.dumps({'hsa_id': s['hsa_id']}))})'>Log in</button></td></tr>"
        for s in identities["staff"]
    )
    return PAGE.format(residents=residents, staff=staff)


NOTIFICATIONS_PAGE = """<!doctype html>
<html lang="sv"><head><meta charset="utf-8"><title>Sent SMS and e-mail - open e-services (local)</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{{font-family:system-ui,sans-serif;max-width:72rem;margin:2rem auto;padding:0 1rem;color:#1b1b1b}}
h1{{font-size:1.5rem}} table{{border-collapse:collapse;width:100%}} td,th{{text-align:left;vertical-align:top;padding:.4rem;border-bottom:1px solid #ddd}}
td.text{{white-space:pre-wrap}} .note{{color:#555}}
</style></head><body>
<h1>Sent SMS and e-mail (local runtime only)</h1>
<p class="note">What the platform sent through SNS (SMS) and SES (e-mail), as the local AWS emulation captured
it: nothing leaves this machine. Newest first; {count} in all. <a href="/dev/notifications">Refresh</a>,
or read <a href="/dev/notifications.json">/dev/notifications.json</a> from a script.</p>
<table><tr><th>Noticed (UTC)</th><th>Channel</th><th>To</th><th>Subject</th><th>Text</th></tr>{rows}</table>
</body></html>"""


def notifications_page(items: list[dict[str, Any]]) -> str:
    """`items` as /dev/notifications.json has them (newest first)."""
    rows = "".join(
        f"<tr><td>{html.escape(m['noticed_at'][11:19])}</td><td>{'SMS' if m['channel'] == 'sms' else 'e-mail'}</td>"
        f"<td>{html.escape(m['to'])}</td><td>{html.escape(m['subject'])}</td>"
        f"<td class='text'>{html.escape(m['text'])}</td></tr>"
        for m in items
    )
    empty = "<tr><td colspan='5' class='note'>Nothing sent yet.</td></tr>"
    return NOTIFICATIONS_PAGE.format(count=len(items), rows=rows or empty)


# ---- the development providers' login pages (authorization code flow) ----------------------------------------

AUTHORIZE_CSS = """body{font-family:system-ui,sans-serif;max-width:48rem;margin:0 auto;padding:1rem;color:#1b1b1b;line-height:1.5}
h1{font-size:1.6rem;margin:.5rem 0 1rem} .banner{border-left:6px solid #8a5a00;background:#fff4e0;padding:.75rem 1rem}
.who{list-style:none;padding:0} .who li{border-bottom:1px solid #b8bec7;padding:.5rem 0}
button{font:inherit;font-weight:600;min-height:44px;padding:.5rem 1rem;border:2px solid #1d4f91;border-radius:6px;
background:#1d4f91;color:#fff;cursor:pointer;text-align:left} button.secondary{background:#fff;color:#1d4f91}
.note{color:#4a4a4a} label{font-weight:600;display:block;margin:.5rem 0 .25rem} select{font:inherit;min-height:44px}
:focus-visible{outline:3px solid #0b0c0c;outline-offset:2px} .error{border-left:6px solid #b3261e;background:#fdecea;padding:.75rem 1rem}
"""

AUTHORIZE_PAGE = """<!doctype html>
<html lang="sv"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title><link rel="icon" href="data:,"><link rel="stylesheet" href="/dev/idp/login.css"></head><body>
<header><p class="banner"><strong>Endast för utveckling.</strong> Påhittade demoidentiteter; tokens gäller bara den
lokala miljön. / Development only: fictional demo identities.</p></header>
<main><h1>{title}</h1>
<form method="post" action="{action}">
{hidden}
{extra}
<h2>Välj identitet / Choose an identity</h2>
<ul class="who">{choices}</ul>
<p><button class="secondary" type="submit" name="cancel" value="1">Avbryt / Cancel</button></p>
</form></main></body></html>"""

ERROR_PAGE = """<!doctype html>
<html lang="sv"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Inloggningen kan inte göras</title><link rel="icon" href="data:,"><link rel="stylesheet" href="/dev/idp/login.css">
</head><body>
<main><h1>Inloggningen kan inte göras / The login cannot be done</h1>
<p class="error">{error}: {description}</p>
<p class="note">The request did not come from a registered client, so the provider does not send you back.</p>
</main></body></html>"""


def authorize_page(kind: str, identities: dict[str, Any], fields: dict[str, str], action: str) -> str:
    """The development e-ID (residents) or SITHS (staff) page: one submit button per demo identity, the
    authorization request carried in hidden fields. No script, no inline style: it works under a strict CSP."""
    hidden = "\n".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">' for k, v in fields.items()
    )
    if kind == "resident":
        title = "Utvecklings-e-legitimation (lokal miljö)"
        extra = (
            '<label for="loa">Tillitsnivå / Assurance level</label>'
            '<select id="loa" name="assurance_level"><option value="3" selected>3 (BankID, Freja+)</option>'
            '<option value="2">2 (för låg: API:et svarar 401 / too low: the API answers 401)</option></select>'
        )
        names = {p["personnummer"]: p["name"] for p in identities["residents"]}
        choices = "".join(
            f'<li><button type="submit" name="personnummer" value="{html.escape(p["personnummer"])}">'
            f"{html.escape(p['name'])}</button> "
            f'<span class="note">född {html.escape(p["birth_date"])}'
            f"{' · skyddad identitet' if p['protected_identity'] else ''}"
            + (
                f" · vårdnadshavare för {html.escape(', '.join(names.get(c, '') for c in p['guardian_of']))}"
                if p["guardian_of"]
                else ""
            )
            + "</span></li>"
            for p in identities["residents"]
        )
    else:
        title = "Utvecklings-SITHS (lokal miljö)"
        extra = ""
        choices = "".join(
            f'<li><button type="submit" name="hsa_id" value="{html.escape(s["hsa_id"])}">'
            f"{html.escape(s['name'])}</button> "
            f'<span class="note">{html.escape(s["title"])} · {html.escape(s["hsa_id"])} · '
            f"{len(s['commissions'])} uppdrag</span></li>"
            for s in identities["staff"]
        )
    return AUTHORIZE_PAGE.format(
        title=title, action=html.escape(action), hidden=hidden, extra=extra, choices=choices
    )


def authorize_error_page(error: str, description: str) -> str:
    return ERROR_PAGE.format(error=html.escape(error), description=html.escape(description))
