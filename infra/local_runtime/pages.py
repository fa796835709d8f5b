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
