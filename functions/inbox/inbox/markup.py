"""The inbox body's small markup, parsed into blocks a client renders without ever interpreting HTML.

A blank line separates paragraphs; a line starting with `- ` is a list item; `**text**` is emphasised;
`[text](https://...)` is a link. Anything else, including `<script>`, is text. A link that is not https
stays text.
"""

from __future__ import annotations

import re
from typing import Any

_INLINE = re.compile(r"\*\*(?P<strong>[^*\n]+)\*\*|\[(?P<label>[^\]\n]+)\]\((?P<href>[^)\s]+)\)")


def spans(text: str) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = []
    at = 0
    for match in _INLINE.finditer(text):
        if match.start() > at:
            result.append({"text": text[at : match.start()]})
        if match.group("strong"):
            result.append({"text": match.group("strong"), "strong": True})
        elif match.group("href").startswith("https://"):
            result.append({"text": match.group("label"), "href": match.group("href")})
        else:
            result.append({"text": match.group(0)})
        at = match.end()
    if at < len(text):
        result.append({"text": text[at:]})
    return result


def blocks(body: str) -> list[dict[str, Any]]:
    """Paragraphs and lists, in order."""
    result: list[dict[str, Any]] = []
    for chunk in re.split(r"\n\s*\n", body.replace("\r\n", "\n").strip()):
        lines = [line.rstrip() for line in chunk.split("\n") if line.strip()]
        paragraph: list[str] = []
        for line in lines:
            if line.startswith("- "):
                if paragraph:
                    result.append({"type": "paragraph", "spans": spans(" ".join(paragraph))})
                    paragraph = []
                if not result or result[-1]["type"] != "list" or result[-1].get("closed"):
                    result.append({"type": "list", "items": []})
                result[-1]["items"].append(spans(line[2:].strip()))
            else:
                paragraph.append(line.strip())
        if paragraph:
            result.append({"type": "paragraph", "spans": spans(" ".join(paragraph))})
        if result and result[-1]["type"] == "list":
            result[-1]["closed"] = True  # a blank line ends a list
    for block in result:
        block.pop("closed", None)
    return result
