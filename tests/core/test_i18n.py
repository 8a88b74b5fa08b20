"""Russian is the default language of every user-facing text; English is shipped too."""

import polib
import pytest
from django.conf import settings as django_settings
from django.utils import translation

from okno.appeals.choices import Status, Topic


def test_russian_is_the_default_language():
    from okno import settings as okno_settings  # the module itself: the test fixtures switch to English

    assert okno_settings.LANGUAGE_CODE == "ru"
    assert [code for code, _name in okno_settings.LANGUAGES] == ["ru", "en"]


def test_labels_and_messages_are_translated_to_russian():
    with translation.override("ru"):
        assert str(Status.WAITING_CUSTOMER.label) != "Waiting for the customer"
        assert str(Topic.OUTAGE.label) != "Power outage"
        assert translation.gettext("The answer is empty.") != "The answer is empty."
    with translation.override("en"):
        assert str(Topic.OUTAGE.label) == "Power outage"


def test_the_russian_catalogue_is_complete():
    po = polib.pofile(str(django_settings.BASE_DIR / "okno" / "locale" / "ru" / "LC_MESSAGES" / "django.po"))
    missing = [e.msgid for e in po if not e.obsolete and (not e.translated() or "fuzzy" in e.flags)]
    assert missing == [], f"{len(missing)} untranslated: {missing[:10]}"


@pytest.mark.django_db
def test_an_error_of_an_action_reaches_a_russian_user_in_russian(register, org):
    from okno.appeals import actions
    from okno.core.errors import TransitionNotAllowed

    appeal = register()
    with translation.override("ru"), pytest.raises(TransitionNotAllowed) as err:
        actions.close(appeal, actor=org.head_a)
    assert "cannot become" not in str(err.value.message)
