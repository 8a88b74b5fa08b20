"""``{% chat_waiting_badge %}``: how many chats wait for an operator, as a badge in the staff navigation."""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

register = template.Library()


@register.simple_tag
def chat_waiting_badge() -> SafeString:
    from okno.assistant.web.inbox_views import waiting_count

    count = waiting_count()
    if not count:
        return mark_safe('<span class="chat-badge" data-chat-badge hidden></span>')  # noqa: S308 (a constant)
    return format_html(
        '<span class="chat-badge" data-chat-badge title="{}">{}</span>',
        _("Chats waiting for an operator"),
        count,
    )
