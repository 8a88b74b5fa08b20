"""The GOST R 56042-2014 payment QR code: the payload, its limits, and a decode round trip."""

from __future__ import annotations

import datetime as dt
import io
from types import SimpleNamespace

import pytest
import zxingcpp
from PIL import Image

from okno.billing import qr

PAYEE = SimpleNamespace(
    name="АО «Тестовая энергосбытовая компания»",
    inn="7707083893",
    kpp="770701001",
    bank_name="ПАО Сбербанк",
    bic="044525225",
    correspondent_account="30101810400000000225",
    settlement_account="40702810900000000001",
)

EXPECTED = (
    "ST00012|Name=АО «Тестовая энергосбытовая компания»|PersonalAcc=40702810900000000001"
    "|BankName=ПАО Сбербанк|BIC=044525225|CorrespAcc=30101810400000000225|PayeeINN=7707083893"
    "|KPP=770701001|Sum=123456|Purpose=Электроэнергия за 03.2026, л/с 500123456"
    "|PersAcc=500123456|PaymPeriod=032026"
)


def build(**overrides):
    args = {
        "payee": PAYEE,
        "account": "500123456",
        "period": dt.date(2026, 3, 1),
        "sum_kop": 123456,  # 1 234.56 ₽ is written in kopecks
        "purpose": "Электроэнергия за 03.2026, л/с 500123456",
    }
    args.update(overrides)
    return qr.build_payload(**args)


def test_payload_is_the_standard_string_with_sum_in_kopecks():
    assert build() == EXPECTED


def test_payload_round_trips_through_a_png_and_a_decoder_byte_for_byte():
    payload = build()
    buf = io.BytesIO()
    qr.make_qr(payload).save(buf, kind="png", scale=4, border=4)
    image = Image.open(io.BytesIO(buf.getvalue()))
    found = zxingcpp.read_barcodes(image)
    assert len(found) == 1
    assert found[0].format == zxingcpp.BarcodeFormat.QRCode
    assert found[0].bytes == payload.encode("utf-8")
    assert found[0].text == EXPECTED
    assert qr.make_qr(payload).error == "M"


def test_parse_gives_back_every_requisite():
    fields = qr.parse_payload(build())
    assert fields["Sum"] == "123456"
    assert fields["PersAcc"] == "500123456"
    assert fields["PaymPeriod"] == "032026"
    assert fields["Name"] == PAYEE.name
    assert list(fields)[:5] == list(qr.MANDATORY)


def test_parse_accepts_another_separator_and_a_trailing_one():
    text = "ST00012#Name=X#PersonalAcc=40702810900000000001#BankName=B#BIC=044525225#CorrespAcc=0#"
    assert qr.parse_payload(text)["CorrespAcc"] == "0"


@pytest.mark.parametrize(
    "text", ["", "ST0002|Name=X", "XX00012|Name=X", "ST00012|Name=X|PersonalAcc=1", "ST00012|garbage"]
)
def test_parse_refuses_foreign_or_incomplete_text(text):
    with pytest.raises(qr.QRPayloadError):
        qr.parse_payload(text)


def test_separator_in_free_text_is_replaced_and_in_codes_refused():
    payee = SimpleNamespace(**{**vars(PAYEE), "name": "ООО «Свет|Тепло»"})
    assert "|Name=ООО «Свет/Тепло»|" in build(payee=payee)
    assert "Purpose=Свет / тепло|" in build(purpose="Свет | тепло")
    with pytest.raises(qr.QRPayloadError, match="PersAcc"):
        build(account="500|123")


def test_lengths_and_formats_of_the_standard_are_enforced():
    with pytest.raises(qr.QRPayloadError, match="BankName"):
        build(payee=SimpleNamespace(**{**vars(PAYEE), "bank_name": "Б" * 46}))
    with pytest.raises(qr.QRPayloadError, match="BIC"):
        build(payee=SimpleNamespace(**{**vars(PAYEE), "bic": "04452522"}))
    with pytest.raises(qr.QRPayloadError, match="Name"):
        build(payee=SimpleNamespace(**{**vars(PAYEE), "name": ""}))
    # The purpose is Okno's own text: shortened to the standard's 210 characters, not refused.
    long = qr.parse_payload(build(purpose="э" * 300))["Purpose"]
    assert len(long) == 210 and long.endswith("…")


def test_an_advance_is_written_as_zero_to_pay():
    assert "|Sum=0|" in build(sum_kop=-5000)


def test_svg_is_inline_with_a_viewbox():
    svg = qr.qr_svg(build())
    assert svg.startswith("<svg") and "viewBox" in svg and "payment-qr" in svg
