"""Fixtures shared with other test packages: billing's metered account, the outages test grid."""

from tests.billing.conftest import metered, tariffs  # noqa: F401
from tests.outages.conftest import grid  # noqa: F401
