"""The shipped notice texts (Russian and English) as data, editable in the admin."""

from django.db import migrations


def load(apps, schema_editor):
    from okno.notify.defaults import DEFAULTS

    NoticeTemplate = apps.get_model("notify", "NoticeTemplate")
    for code, languages in DEFAULTS.items():
        for language, (subject, short_text, text) in languages.items():
            NoticeTemplate.objects.get_or_create(
                code=code,
                language=language,
                defaults={"subject": subject, "short_text": short_text, "text": text},
            )


def unload(apps, schema_editor):
    from okno.notify.defaults import DEFAULTS

    apps.get_model("notify", "NoticeTemplate").objects.filter(code__in=list(DEFAULTS)).delete()


class Migration(migrations.Migration):
    dependencies = [("notify", "0001_initial")]

    operations = [migrations.RunPython(load, unload)]
