"""The content's plain-text markup: paragraphs, lists, headings, bold and safe links; everything escaped."""

from __future__ import annotations

from okno.content.markup import plain, render, safe_href


def test_blocks():
    html = render("## Заголовок\n\nПервая строка\nвторая\n\n- один\n- два\n\n1. раз\n2. два")
    assert html == (
        "<h2>Заголовок</h2><p>Первая строка<br>вторая</p><ul><li>один</li><li>два</li></ul>"
        "<ol><li>раз</li><li>два</li></ol>"
    )


def test_heading_level_and_subheadings():
    assert render("## A\n\n### B", heading_level=3) == "<h3>A</h3><h4>B</h4>"


def test_inline_bold_and_links():
    html = render("**важно**: [карта](/outages/) и [сайт](https://example.ru/a?b=1&c=2)")
    assert "<strong>важно</strong>" in html
    assert '<a href="/outages/">карта</a>' in html
    assert '<a href="https://example.ru/a?b=1&amp;c=2" rel="noopener noreferrer">сайт</a>' in html


def test_html_is_text():
    html = render('<script>alert(1)</script> <a href="x">y</a>')
    assert "<script>" not in html and "<a href" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_dangerous_links_stay_text():
    for href in ("javascript:alert(1)", "//evil.example/x", "data:text/html,x", "JaVaScRiPt:alert(1)"):
        assert safe_href(href) is None
        assert "<a " not in render(f"[x]({href})")
    assert safe_href("mailto:info@szsk.example") == "mailto:info@szsk.example"
    assert safe_href("tel:88001002233") == "tel:88001002233"


def test_quotes_in_a_link_target_cannot_break_out():
    html = render('[x](/a"onmouseover="alert(1))')
    assert 'onmouseover="' not in html


def test_plain_drops_markup():
    assert plain("## Заголовок\n- **жирный** [ссылка](/x)") == "Заголовок\nжирный ссылка"
