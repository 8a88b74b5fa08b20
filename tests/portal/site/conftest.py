"""Public site fixtures: the demo content seeded over the test organisation, and a client per language."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _fresh_structure_cache():
    from okno.portal.site import queries

    queries.clear_cache()
    yield
    queries.clear_cache()


@pytest.fixture
def content(org):
    """The demo content (pages, passports, documents, FAQ, outlines; coordinates for offices without)."""
    from okno.demo.content import seed_content

    return seed_content()


@pytest.fixture
def ru(client, settings):
    """A client that asks for Russian (the default language of the site)."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ru"
    return client


@pytest.fixture
def en(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client
