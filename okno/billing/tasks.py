"""Background jobs of metering and billing (registered with okno.core.jobs)."""
