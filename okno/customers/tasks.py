"""Background jobs of the customers app (registered with :mod:`okno.core.jobs`)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from okno.core.jobs import job


@job("customers.purge_cabinet_challenges", every=dt.timedelta(days=1))
def purge_cabinet_challenges() -> dict[str, Any]:
    """Delete the personal cabinet's one-time code challenges that expired more than a day ago."""
    from okno.customers.cabinet import purge_expired

    return {"deleted": purge_expired()}
