"""Okno: the single-window customer service platform for electric utilities."""

__version__ = "0.1.0"
