"""``okno seed --accounts N --appeals M --seed S [--reset]``: load the deterministic demo company."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from okno.demo.generator import DataExists, has_business_data, seed
from okno.demo.org import DEMO_PASSWORD


class Command(BaseCommand):
    help = "Create a fictional grid company with customers and a year of appeals (same seed, same data)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--accounts", type=int, default=2000, help="Number of accounts (default 2000)")
        parser.add_argument(
            "--appeals",
            type=int,
            default=5000,
            help="Number of appeals over the last 365 days (default 5000)",
        )
        parser.add_argument(
            "--seed", type=int, default=1, help="Random seed: the same seed gives the same data"
        )
        parser.add_argument("--reset", action="store_true", help="Delete existing business data first")
        parser.add_argument(
            "--billing-months",
            type=int,
            default=12,
            help="Complete months of readings, billing runs and payments before today (default 12)",
        )
        parser.add_argument(
            "--no-billing", action="store_true", help="No meters, readings, charges or payments"
        )
        parser.add_argument(
            "--no-grid",
            action="store_true",
            help="No grid topology, outages, local authorities or subscriptions",
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing (and succeed) when business data already exists",
        )

    def handle(self, *args, **options) -> None:
        if options["accounts"] < 1 or options["appeals"] < 0:
            raise CommandError("--accounts must be at least 1 and --appeals not negative")
        if not 0 <= options["billing_months"] <= 36:
            raise CommandError("--billing-months must be between 0 and 36")
        if options["if_empty"] and not options["reset"] and has_business_data():
            self.stdout.write("The database already holds business data; nothing to do (--if-empty).")
            self._print_logins(self._existing_logins(), DEMO_PASSWORD)
            return
        started = time.monotonic()

        def progress(message: str) -> None:
            self.stdout.write(f"[{time.monotonic() - started:7.1f} s] {message}")
            self.stdout.flush()

        try:
            result = seed(
                accounts=options["accounts"],
                appeals=options["appeals"],
                seed=options["seed"],
                reset=options["reset"],
                progress=progress,
                billing_months=0 if options["no_billing"] else options["billing_months"],
                grid=not options["no_grid"],
            )
        except DataExists as exc:
            raise CommandError(
                "The database already holds business data; run with --reset to replace it."
            ) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"Done in {result.seconds:.1f} s: {result.customers} customers, {result.accounts} accounts, {result.appeals} appeals."
            )
        )
        self._print_logins(result.logins, result.password)
        self._print_cabinet(result.portal, result.password)
        if result.grid is not None and result.grid.landmark:
            self.stdout.write(
                f"Chat (/chat/): ask «есть ли свет на Ленина 15» — {result.grid.landmark} is under outage "
                f"{result.grid.active[0]}"
            )

    def _print_cabinet(self, portal, password: str) -> None:
        if portal is None or not portal.cabinet_login:
            return
        self.stdout.write("")
        self.stdout.write(
            f"Personal cabinet (/cabinet/login/): {portal.cabinet_login} / {password} (account {portal.cabinet_account})"
        )
        if portal.signup_account:
            self.stdout.write(
                f"Sign up by hand (/cabinet/signup/): account {portal.signup_account}, "
                f"check value {portal.signup_check_value} (the amount of its last invoice); "
                "the one-time code arrives in the local outbox (/notify/outbox/, as admin)"
            )

    @staticmethod
    def _existing_logins() -> list[tuple[str, str, str]]:
        from okno.org.models import User

        rows = []
        for user in (
            User.objects.filter(is_system=False, is_active=True).prefetch_related("branches").order_by("id")
        ):
            scope = "вся компания" if user.all_branches else ", ".join(b.name for b in user.branches.all())
            rows.append((user.username, user.role or "-", scope))
        return rows

    def _print_logins(self, logins: list, password: str) -> None:
        if not logins:
            return
        width = max(len(login) for login, _, _ in logins)
        self.stdout.write("")
        self.stdout.write(f"Demo logins (password for all: {password})")
        self.stdout.write(f"{'login'.ljust(width)}  {'role'.ljust(18)}  scope")
        for login, role, scope in logins:
            self.stdout.write(f"{login.ljust(width)}  {str(role).ljust(18)}  {scope}")
