"""Compile the project's .po files to .mo with polib (GNU gettext is not needed on the machine)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polib
from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Compile okno/locale/*/LC_MESSAGES/*.po into .mo files."

    def handle(self, *args: Any, **opts: Any) -> None:
        count = 0
        for locale_dir in settings.LOCALE_PATHS:
            for po_path in Path(locale_dir).glob("*/LC_MESSAGES/*.po"):
                po = polib.pofile(str(po_path))
                po.save_as_mofile(str(po_path.with_suffix(".mo")))
                count += 1
                self.stdout.write(f"{po_path}: {po.percent_translated()}% translated")
        self.stdout.write(f"compiled {count} catalogue(s)")
