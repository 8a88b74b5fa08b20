"""Uploads are typed by their content: markup anywhere in the head, programs named as text, ZIPs that are
not Office documents are refused; Cyrillic text cut mid-character is still text; stored names carry the
real type's extension."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from okno.appeals import actions
from okno.appeals.actions import _sniff, stored_name


def _zip(*names: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(name, "<x/>")
    return buffer.getvalue()


def test_markup_after_leading_spaces_is_not_text():
    assert _sniff(b" " * 70 + b"<html><script>alert(1)</script>") is None
    assert _sniff(b"\n" * 300 + b"<SVG onload=alert(1)>") is None


def test_cyrillic_text_cut_in_the_middle_of_a_letter_is_text():
    data = ("a" + "Жалоба на напряжение. " * 200).encode()
    assert len(data) > 2048
    assert _sniff(data[:2048]) == "text/plain"
    assert _sniff(data[:2047]) == "text/plain"


def test_a_program_named_as_text_gets_a_txt_extension():
    assert stored_name("setup.bat", "text/plain") == "setup.bat.txt"
    assert stored_name("scan.pdf.js", "text/plain") == "scan.pdf.js.txt"
    assert stored_name("letter.TXT", "text/plain") == "letter.TXT"
    assert stored_name("../../etc/passwd", "text/plain") == ".._.._etc_passwd.txt"


@pytest.mark.django_db
def test_zip_is_accepted_only_as_an_office_document(org, customers):
    appeal = actions.register_appeal(
        channel="office", kind="info_request", topic="billing", text="Вопрос", actor=org.operator_a,
        account=customers.acc_ivanov,
    )  # fmt: skip
    docx = SimpleUploadedFile("letter.zip", _zip("[Content_Types].xml", "word/document.xml"))
    att = actions.add_attachment(appeal, actor=org.operator_a, upload=docx)
    assert att.content_type.endswith("wordprocessingml.document")
    assert att.name == "letter.zip.docx"
    with pytest.raises(ValidationError):
        actions.add_attachment(
            appeal, actor=org.operator_a, upload=SimpleUploadedFile("site.docx", _zip("index.html"))
        )
