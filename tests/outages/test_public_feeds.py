"""The public feeds: /outages/feed.json (a stable documented schema) and /outages/feed.rss (RSS 2.0, one item
per outage, guid = number), their filters, caching and the absence of personal data."""

from __future__ import annotations

import datetime as dt
import json
import xml.etree.ElementTree as ET
from urllib.parse import unquote

import pytest
from django.utils import timezone
from django.utils.encoding import iri_to_uri

from tests.outages.test_public_page import _fresh_caches, _outage, _planned, grid  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db

JSON_URL = "/outages/feed.json"
RSS_URL = "/outages/feed.rss"
OUTAGE_KEYS = {
    "number",
    "kind",
    "status",
    "off_now",
    "settlements",
    "addresses",
    "start",
    "end",
    "etr",
    "timezone",
    "cause",
    "cause_label",
    "reason",
    "branch",
    "updated",
    "url",
}


@pytest.fixture
def three(grid):  # noqa: F811
    started = dt.datetime(2026, 11, 23, 6, 0, tzinfo=dt.UTC)
    return (
        _outage(grid.f1, started_at=started, etr=started + dt.timedelta(hours=4), cause="equipment"),
        _outage(grid.tp91, started_at=started, etr=None),
        _planned(grid.tp21, timezone.localdate() + dt.timedelta(days=2), 9, 17),
    )


def test_json_feed_has_the_documented_schema(client, three):
    unplanned, east, planned = three
    response = client.get(JSON_URL)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert "max-age=60" in response["Cache-Control"] and "public" in response["Cache-Control"]
    assert response["Access-Control-Allow-Origin"] == "*"
    body = json.loads(response.content)
    assert set(body) == {"schema", "generated_at", "count", "outages"}
    assert body["schema"] == "okno.outages.public/1"
    assert body["count"] == 3
    by_number = {o["number"]: o for o in body["outages"]}
    for item in body["outages"]:
        assert set(item) == OUTAGE_KEYS
    u = by_number[unplanned.number]
    assert u["kind"] == "unplanned" and u["status"] == "active" and u["off_now"] is True
    assert u["settlements"] == ["Северск"]
    assert u["addresses"] == [
        {
            "settlement": "Северск",
            "streets": [
                {"street": "ул. Ленина", "houses": ["1", "2", "3", "4", "10"], "text": "ул. Ленина, 1–4, 10"},
                {"street": "ул. Мира", "houses": ["7А"], "text": "ул. Мира, 7А"},
            ],
        }
    ]
    # 06:00 UTC in Moscow time, with the offset; ETR four hours later; the zone is named.
    assert u["start"] == "2026-11-23T09:00:00+03:00"
    assert u["etr"] == "2026-11-23T13:00:00+03:00"
    assert u["end"] is None
    assert u["timezone"] == "Europe/Moscow"
    assert u["cause"] == "equipment" and u["cause_label"] == "Equipment failure"
    assert u["url"] == iri_to_uri(f"http://testserver/outages/#outage-{unplanned.number}")
    e = by_number[east.number]
    assert e["start"] == "2026-11-23T11:00:00+05:00" and e["timezone"] == "Asia/Yekaterinburg"
    assert e["etr"] is None
    p = by_number[planned.number]
    day = timezone.localdate() + dt.timedelta(days=2)
    assert p["kind"] == "planned" and p["off_now"] is False
    assert p["start"] == f"{day.isoformat()}T09:00:00+03:00"
    assert p["end"] == f"{day.isoformat()}T17:00:00+03:00"
    assert dt.datetime.fromisoformat(p["updated"]).tzinfo is not None


def test_json_feed_filters_by_kind_and_settlement(client, three):
    unplanned, east, planned = three
    body = client.get(JSON_URL, {"kind": "planned"}).json()
    assert [o["number"] for o in body["outages"]] == [planned.number]
    body = client.get(JSON_URL, {"settlement": "Восточный"}).json()
    assert [o["number"] for o in body["outages"]] == [east.number]
    body = client.get(JSON_URL, {"settlement": "берёзовка"}).json()  # case-insensitive, ё as е
    assert [o["number"] for o in body["outages"]] == [planned.number]
    body = client.get(JSON_URL, {"settlement": "Нигдеево"}).json()
    assert body["count"] == 0 and body["outages"] == []


def test_feeds_answer_head_and_refuse_post(client, three):
    assert client.head(JSON_URL).status_code == 200
    assert client.head(RSS_URL).status_code == 200
    assert client.post(JSON_URL).status_code == 405


def test_json_feed_refuses_an_unknown_kind(client, three):
    response = client.get(JSON_URL, {"kind": "everything"})
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert "kind" in response.json()["errors"]


def test_feeds_drop_restored_outages(client, three):
    unplanned, east, planned = three
    from okno.outages.models import Outage

    Outage.objects.filter(pk=unplanned.pk).update(status="restored", restored_at=timezone.now())
    numbers = [o["number"] for o in client.get(JSON_URL).json()["outages"]]
    assert unplanned.number not in numbers and east.number in numbers


def _rss(response):
    assert response.status_code == 200
    root = ET.fromstring(response.content)  # noqa: S314 (our own response in a test)
    assert root.tag == "rss" and root.get("version") == "2.0"
    channel = root.find("channel")
    assert channel is not None
    return channel


def test_rss_feed_is_valid_rss_2_with_one_item_per_outage(client, three):
    unplanned, east, planned = three
    response = client.get(RSS_URL)
    assert response["Content-Type"].startswith("application/rss+xml")
    assert "max-age=60" in response["Cache-Control"]
    channel = _rss(response)
    for tag in ("title", "link", "description"):
        assert channel.findtext(tag)
    assert channel.findtext("language") == "ru"  # Russian by default
    items = channel.findall("item")
    assert len(items) == 3
    guids = {i.find("guid").text: i.find("guid") for i in items}
    assert set(guids) == {unplanned.number, east.number, planned.number}
    assert all(g.get("isPermaLink") == "false" for g in guids.values())
    item = next(i for i in items if i.findtext("guid") == unplanned.number)
    assert "Северск" in item.findtext("title")
    assert unquote(item.findtext("link")).endswith(f"#outage-{unplanned.number}")
    description = item.findtext("description")
    assert "ул. Ленина, 1–4, 10" in description
    assert "23.11.2026 09:00" in description and "UTC+3, Europe/Moscow" in description
    assert item.findtext("pubDate")


def test_rss_feed_filters_and_english(client, three):
    unplanned, east, planned = three
    channel = _rss(client.get(RSS_URL, {"kind": "unplanned", "settlement": "Северск"}))
    assert [i.findtext("guid") for i in channel.findall("item")] == [unplanned.number]
    channel = _rss(client.get(RSS_URL, {"lang": "en"}))
    assert channel.findtext("language") == "en"
    assert client.get(RSS_URL, {"kind": "x"}).status_code == 400


def test_feeds_carry_no_personal_data(client, three, customers):
    for url in (JSON_URL, RSS_URL):
        text = client.get(url).content.decode()
        for secret in (
            "Иванов",
            "Ромашка",
            customers.acc_ivanov.number,
            customers.acc_romashka.number,
            "ivanov@example.ru",
            "кв.",
            '"flat"',
        ):
            assert secret not in text, (url, secret)
