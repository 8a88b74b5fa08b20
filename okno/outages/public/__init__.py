"""The public outage page, its server-side map and the JSON / RSS feeds (no login, no personal data).

Everything shown here is derived from the outages and the grid topology: which settlements, streets and
houses are without power (or will be), since when, until when, and why. Names, account numbers and flats
never leave this package — addresses are aggregated to houses, debt disconnections to streets.
"""
