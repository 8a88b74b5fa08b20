"""Deterministic demo data: a fictional regional grid company with customers and a year of appeals."""
