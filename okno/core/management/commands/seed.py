"""``okno seed --accounts N --appeals M --seed S [--reset]``: load the deterministic demo company."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from okno.demo.generator import DataExists, has_business_data, seed


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
            "--if-empty",
            action="store_true",
            help="Do nothing (and succeed) when business data already exists",
        )

    def handle(self, *args, **options) -> None:
        if options["accounts"] < 1 or options["appeals"] < 0:
            raise CommandError("--accounts must be at least 1 and --appeals not negative")
        if options["if_empty"] and not options["reset"] and has_business_data():
            self.stdout.write("The database already holds business data; nothing to do (--if-empty).")
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
        width = max(len(login) for login, _, _ in result.logins)
        self.stdout.write("")
        self.stdout.write(f"Demo logins (password for all: {result.password})")
        self.stdout.write(f"{'login'.ljust(width)}  {'role'.ljust(18)}  scope")
        for login, role, scope in result.logins:
            self.stdout.write(f"{login.ljust(width)}  {str(role).ljust(18)}  {scope}")
