"""The 15th applies to the February 2026 bill too (it falls due after the rule took effect on 1 March 2026)."""

import datetime as dt

from django.db import migrations


def forward(apps, schema_editor):
    rule = apps.get_model("billing", "DueDayRule")
    if not rule.objects.filter(valid_from=dt.date(2026, 2, 1)).exists():
        rule.objects.filter(valid_from=dt.date(2026, 3, 1), day=15).update(valid_from=dt.date(2026, 2, 1))


class Migration(migrations.Migration):
    dependencies = [("billing", "0003_run_indexes")]
    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
