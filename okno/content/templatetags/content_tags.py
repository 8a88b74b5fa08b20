"""Template helpers of the public site: content in the active language, the safe markup, optional links."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import NoReverseMatch, reverse
from django.utils.safestring import SafeString

from okno.content import markup as content_markup

register = template.Library()


@register.filter
def tr(obj: Any, name: str) -> Any:
    """``{{ page|tr:"title" }}``: the field in the active language (English when filled), else Russian."""
    if hasattr(obj, "tr"):
        return obj.tr(name)
    return getattr(obj, name, "")


@register.filter
def markup(text: str) -> SafeString:
    """``{{ text|markup }}``: the content's plain-text markup as escaped HTML (never the text as HTML)."""
    return content_markup.render(text or "", heading_level=2)


@register.filter
def markup3(text: str) -> SafeString:
    """As :func:`markup`, with headings one level lower (inside a section that has an ``<h2>``)."""
    return content_markup.render(text or "", heading_level=3)


@register.simple_tag
def optional_url(name: str, *args: Any) -> str:
    """The URL of ``name``, or ``""`` when no such route exists (a form another part has not built yet)."""
    try:
        return reverse(name, args=args or None)
    except NoReverseMatch:
        return ""
