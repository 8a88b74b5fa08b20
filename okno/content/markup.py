"""A deliberately small, safe markup for texts typed in the admin.

Blocks are separated by empty lines. A block whose lines all start with ``- `` (or ``* ``) is a list, with
``1. `` a numbered list; a line starting with ``## `` (``### ``) is a heading; anything else is a paragraph
(single line breaks kept). Inline: ``**bold**`` and ``[text](target)`` where the target is an ``https://``,
``http://``, ``mailto:``, ``tel:`` link or a path on this site (``/…``, ``#…``).

Every piece of text is escaped; the only tags in the output are the ones produced here. Nothing typed is
passed through as HTML, so an editor's (or an attacker's) ``<script>`` shows as text.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

_INLINE = re.compile(r"\*\*(?P<bold>[^*\n]+?)\*\*|\[(?P<text>[^\]\n]+)\]\((?P<href>[^)\s]+)\)")
_BULLET = re.compile(r"^\s*[-*•]\s+")
_NUMBER = re.compile(r"^\s*\d{1,3}[.)]\s+")
_SAFE_SCHEMES = ("https://", "http://", "mailto:", "tel:")


def safe_href(href: str) -> str | None:
    """The link target when it is harmless (no ``javascript:``, no protocol-relative ``//host``), else None."""
    value = href.strip()
    low = value.lower()
    if low.startswith(_SAFE_SCHEMES):
        return value
    if (value.startswith("/") and not value.startswith(("//", "/\\"))) or value.startswith("#"):
        return value
    return None


Marker = Callable[[str], str]


def inline(text: str, mark: Marker = escape) -> str:
    """Escape ``text`` and turn ``**bold**`` and ``[text](href)`` into tags.

    ``mark`` turns a run of plain text into HTML; the default only escapes, the FAQ search passes one
    that also wraps the words found in ``<mark>`` (it must escape too).
    """
    out: list[str] = []
    pos = 0
    for m in _INLINE.finditer(text):
        out.append(mark(text[pos : m.start()]))
        if m.group("bold") is not None:
            out.append(f"<strong>{mark(m.group('bold'))}</strong>")
        else:
            href = safe_href(m.group("href"))
            label = mark(m.group("text"))
            if href is None:
                out.append(mark(m.group(0)))
            else:
                external = href.lower().startswith(("http://", "https://"))
                rel = ' rel="noopener noreferrer"' if external else ""
                out.append(f'<a href="{escape(href)}"{rel}>{label}</a>')
        pos = m.end()
    out.append(mark(text[pos:]))
    return "".join(out)


def render(text: str, *, heading_level: int = 2, mark: Marker = escape) -> SafeString:
    """The whole text as HTML blocks (see the module docstring)."""
    blocks = re.split(r"\n\s*\n", (text or "").replace("\r\n", "\n").strip())
    html: list[str] = []
    for block in blocks:
        lines = [line for line in block.split("\n") if line.strip()]
        if not lines:
            continue
        if all(_BULLET.match(line) for line in lines):
            items = "".join(f"<li>{inline(_BULLET.sub('', line, count=1), mark)}</li>" for line in lines)
            html.append(f"<ul>{items}</ul>")
        elif all(_NUMBER.match(line) for line in lines):
            items = "".join(f"<li>{inline(_NUMBER.sub('', line, count=1), mark)}</li>" for line in lines)
            html.append(f"<ol>{items}</ol>")
        elif len(lines) == 1 and lines[0].startswith("#"):
            hashes = len(lines[0]) - len(lines[0].lstrip("#"))
            level = min(6, heading_level + max(0, hashes - 2))
            html.append(f"<h{level}>{inline(lines[0].lstrip('#').strip(), mark)}</h{level}>")
        else:
            html.append("<p>" + "<br>".join(inline(line.strip(), mark) for line in lines) + "</p>")
    return mark_safe("".join(html))  # noqa: S308 (every text piece is escaped above)


def plain(text: str) -> str:
    """The text without markup characters (for search and summaries)."""
    text = _INLINE.sub(lambda m: m.group("bold") or m.group("text") or "", text or "")
    return "\n".join(_NUMBER.sub("", _BULLET.sub("", line)).lstrip("#").strip() for line in text.split("\n"))
