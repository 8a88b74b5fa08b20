"""``{% memo "name" value… %}…{% endmemo %}``: a part of a page that is the same for every visitor
(the public site's navigation and footer) rendered once per process, language and set of ``value``s.

The memo is dropped whenever the company's cached row is read again (``okno.core.context_processors``:
its name, hotline and address appear in these parts), so it is never older than that cache
(``OKNO_REFERENCE_TTL``). A part is rendered with the company of the read it is kept under (``okno_company``
is set to it inside the memo), and a part whose render overlapped a new read is not kept: a page that
read the old company before a change never leaves it in the memo. Nothing that depends on the visitor
(a CSRF token, a user's name, a message) may sit inside a memo; what does depend on the page goes into
the values.
"""

from __future__ import annotations

import threading
from typing import Any

from django import template
from django.utils import translation

from okno.core.context_processors import company_cache

register = template.Library()

#: Parts kept per process, at most this many (dropped all at once past it: the keys are few).
LIMIT = 500
_memo: dict[tuple[Any, ...], str] = {}
_lock = threading.Lock()
#: The company cache's value (its list, new at every read) that the parts in ``_memo`` were made with.
_generation: list[Any] = [None]


def clear() -> None:
    with _lock:
        _memo.clear()


class MemoNode(template.Node):
    def __init__(self, nodelist: template.NodeList, name: Any, vary: list[Any]) -> None:
        self.nodelist = nodelist
        self.name = name
        self.vary = vary

    def render(self, context: template.Context) -> str:
        # The value itself is the generation: the company and its read are taken in one step.
        generation = company_cache.get()
        if generation is not _generation[0]:
            with _lock:
                if generation is not _generation[0]:
                    _memo.clear()
                    _generation[0] = generation
        key = (
            self.name.resolve(context),
            translation.get_language(),
            *(str(v.resolve(context)) for v in self.vary),
        )
        found = _memo.get(key)
        if found is None:
            with context.push(okno_company=generation[0]):
                found = self.nodelist.render(context)
            with _lock:
                if _generation[0] is generation:  # not when the company was read again meanwhile
                    if len(_memo) >= LIMIT:
                        _memo.clear()
                    _memo[key] = found
        return found


@register.tag("memo")
def do_memo(parser: template.base.Parser, token: template.base.Token) -> MemoNode:
    bits = token.split_contents()
    if len(bits) < 2:
        raise template.TemplateSyntaxError("'memo' needs a name: {% memo \"name\" value… %}")
    nodelist = parser.parse(("endmemo",))
    parser.delete_first_token()
    return MemoNode(nodelist, parser.compile_filter(bits[1]), [parser.compile_filter(b) for b in bits[2:]])
