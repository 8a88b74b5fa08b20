from django.db import migrations


def load(apps, schema_editor):
    from okno.core.calendar import shipped_days

    CalendarDay = apps.get_model("core", "CalendarDay")
    for day, kind in shipped_days():
        CalendarDay.objects.update_or_create(date=day, defaults={"kind": kind})


def unload(apps, schema_editor):
    from okno.core.calendar import shipped_days

    CalendarDay = apps.get_model("core", "CalendarDay")
    CalendarDay.objects.filter(date__in=[d for d, _k in shipped_days()]).delete()


class Migration(migrations.Migration):
    dependencies = [("core", "0002_initial")]
    operations = [migrations.RunPython(load, unload)]
