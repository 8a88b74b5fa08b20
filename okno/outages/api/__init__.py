"""HTTP API of the outages capability under ``/api/v1/`` (one module per area)."""
