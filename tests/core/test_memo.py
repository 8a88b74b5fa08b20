"""``{% memo %}``: parts of a page the same for everyone are rendered once per process, language and
set of values, and dropped when the company's details change."""

from __future__ import annotations

import pytest
from django.template import Context, Template, TemplateSyntaxError
from django.utils import translation

from okno.core.templatetags import okno_memo

pytestmark = pytest.mark.django_db

TEMPLATE = Template('{% load okno_memo %}[{% memo "test-part" x %}{{ y }}{% endmemo %}]')


def render(x: str, y: str) -> str:
    return TEMPLATE.render(Context({"x": x, "y": y}))


@pytest.fixture(autouse=True)
def _empty_memo():
    okno_memo.clear()
    yield
    okno_memo.clear()


def test_a_part_is_rendered_once_per_value_and_language(org):
    assert render("a", "first") == "[first]"
    assert render("a", "second") == "[first]"  # the same values: the part kept
    assert render("b", "third") == "[third]"  # another value: rendered
    with translation.override("ru"):
        assert render("a", "fourth") == "[fourth]"  # another language: rendered
    assert render("a", "fifth") == "[first]"


def test_the_memo_is_dropped_when_the_company_changes(org):
    from okno.org.models import Company

    assert render("a", "before") == "[before]"
    company = Company.objects.first()
    company.hotline = "8-800-000-00-00"
    company.save()
    assert render("a", "after") == "[after]"


def test_memo_needs_a_name():
    with pytest.raises(TemplateSyntaxError):
        Template("{% load okno_memo %}{% memo %}x{% endmemo %}")


def test_the_site_navigation_marks_the_current_section(client, org):
    """The memo's values keep each section's own current-page mark."""
    home = client.get("/").content.decode()
    faq = client.get("/faq/").content.decode()
    assert 'href="/" aria-current="page"' in home
    assert 'href="/" aria-current="page"' not in faq


def test_a_part_rendered_across_a_company_change_is_not_kept(org):
    """A page that read the company before it changed must not leave the old part in the memo for
    everyone (another page, rendering meanwhile, already keeps the new one)."""
    from django.utils.functional import SimpleLazyObject

    from okno.core.context_processors import _company
    from okno.org.models import Company

    part = Template(
        '{% load okno_memo %}[{% memo "race" %}{{ okno_company.hotline }}{{ meanwhile }}{% endmemo %}]'
    )
    company = Company.objects.first()
    company.hotline = "8-800-111-11-11"
    company.save()

    def page(meanwhile="") -> str:
        return part.render(Context({"okno_company": SimpleLazyObject(_company), "meanwhile": meanwhile}))

    def the_company_changes() -> str:
        company.hotline = "8-800-222-22-22"
        company.save()
        assert page() == "[8-800-222-22-22]"  # another visitor's page, after the change
        return ""

    assert page(the_company_changes) == "[8-800-111-11-11]"  # this page began before the change
    assert page() == "[8-800-222-22-22]"
    assert page() == "[8-800-222-22-22]"


def test_the_footer_names_the_company_of_the_memo(client, org):
    """The site's footer (memoised) and its header (not) name the same company after a change."""
    from okno.org.models import Company

    client.get("/faq/")
    company = Company.objects.first()
    company.address = "г. Северск, ул. Новая, 1"
    company.save()
    html = client.get("/faq/").content.decode()
    assert "г. Северск, ул. Новая, 1" in html.split('<footer class="site-footer">')[1]
