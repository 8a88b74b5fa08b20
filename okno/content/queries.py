"""Read-side selectors of the site's content (published rows only)."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from django.db.models import Prefetch, QuerySet
from django.utils.safestring import SafeString

from okno.content import markup, search
from okno.content.choices import DocumentCategory, FaqTopic
from okno.content.models import Document, FaqEntry, InfoPage, ServicePassport, ServiceStage

MAX_QUERY = 200


def info_page(slug: str) -> InfoPage | None:
    return InfoPage.objects.filter(slug=slug, published=True).first()


def passports(audience: str = "") -> QuerySet[ServicePassport]:
    qs = ServicePassport.objects.filter(published=True)
    if audience:
        qs = qs.filter(audience__in=[audience, "all"])
    return qs


def passport(slug: str) -> ServicePassport | None:
    return (
        ServicePassport.objects.filter(slug=slug, published=True)
        .prefetch_related(Prefetch("stages", queryset=ServiceStage.objects.order_by("order", "id")))
        .first()
    )


@dataclass(frozen=True)
class Group:
    code: str
    label: str
    items: list


def documents_by_category(category: str = "") -> list[Group]:
    """Published documents grouped by category in the order of :class:`DocumentCategory`."""
    qs = Document.objects.filter(published=True)
    if category:
        qs = qs.filter(category=category)
    groups: OrderedDict[str, list[Document]] = OrderedDict((c, []) for c in DocumentCategory.values)
    for doc in qs:
        groups.setdefault(doc.category, []).append(doc)
    labels = dict(DocumentCategory.choices)
    return [Group(code, str(labels.get(code, code)), items) for code, items in groups.items() if items]


@dataclass(frozen=True)
class FaqHit:
    entry: FaqEntry
    question: SafeString
    answer: SafeString


@dataclass(frozen=True)
class FaqResult:
    query: str
    terms: list[str]
    groups: list[Group]  # of FaqHit
    count: int
    total: int  # published entries (of the topic) before the search


def faq(query: str = "", topic: str = "") -> FaqResult:
    """Published questions by topic; with a query, only those containing every word of it, highlighted."""
    query = (query or "").strip()[:MAX_QUERY]
    wanted = search.terms(query)
    qs = FaqEntry.objects.filter(published=True)
    if topic:
        qs = qs.filter(topic=topic)
    entries = list(qs)
    mark = search.highlighter(wanted)
    groups: OrderedDict[str, list[FaqHit]] = OrderedDict((t, []) for t in FaqTopic.values)
    count = 0
    for e in entries:
        if query and (
            not wanted
            or not search.text_matches(
                (e.question, markup.plain(e.answer), e.question_en, markup.plain(e.answer_en)), wanted
            )
        ):
            continue
        hit = FaqHit(
            entry=e,
            question=SafeString(mark(e.tr("question"))),
            answer=markup.render(e.tr("answer"), heading_level=4, mark=mark),
        )
        groups.setdefault(e.topic, []).append(hit)
        count += 1
    labels = dict(FaqTopic.choices)
    return FaqResult(
        query=query,
        terms=wanted,
        groups=[Group(code, str(labels.get(code, code)), hits) for code, hits in groups.items() if hits],
        count=count,
        total=len(entries),
    )
