"""Load billing reference data from ``okno/billing/data/reference.json``."""

import json
from decimal import Decimal
from pathlib import Path

from django.db import migrations

DATA = Path(__file__).resolve().parent.parent / "data" / "reference.json"


def load(apps, schema_editor):
    data = json.loads(DATA.read_text(encoding="utf-8"))
    get = apps.get_model
    for code, name in data["categories"]:
        get("billing", "ConsumerCategory").objects.get_or_create(code=code, defaults={"name": name})
    ZoneHours = get("billing", "ZoneHours")
    if not ZoneHours.objects.exists():
        ZoneHours.objects.bulk_create(
            ZoneHours(zones=z, zone=zone, start_hour=a, end_hour=b) for z, zone, a, b in data["zone_hours"]
        )
    for day, rate in data["key_rates"]:
        get("billing", "KeyRate").objects.get_or_create(valid_from=day, defaults={"rate": Decimal(rate)})
    for rule in data["penalty_rules"]:
        cap = rule["cap_rate"]
        get("billing", "PenaltyRule").objects.get_or_create(
            valid_from=rule["valid_from"], defaults={"cap_rate": Decimal(cap) if cap else None}
        )
    for day, due in data["due_days"]:
        get("billing", "DueDayRule").objects.get_or_create(valid_from=day, defaults={"day": due})
    get("billing", "BillingSettings").objects.get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
