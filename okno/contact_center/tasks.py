"""Jobs of the contact centre, registered with :mod:`okno.core.jobs` (``jobs.autodiscover`` imports this
module):

* ``contact_center.dial_campaigns`` — the outbound dialler, every minute (:mod:`okno.contact_center.dialler`);
* ``contact_center.tick`` — overflow and due callbacks, every 10 seconds (:func:`okno.contact_center.engine.tick`).
"""

from __future__ import annotations

import datetime as dt

from okno.contact_center import dialler  # noqa: F401 - registers contact_center.dial_campaigns
from okno.core.jobs import job


@job("contact_center.tick", every=dt.timedelta(seconds=10), max_attempts=1)
def tick() -> dict[str, int]:
    """Overflow waiting calls past their queue's limit and put due callbacks through to free agents."""
    from okno.contact_center import engine

    return engine.tick()
