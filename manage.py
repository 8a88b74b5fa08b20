#!/usr/bin/env python
"""Django's manage.py; the ``okno`` console script does the same."""

from okno.cli import main

if __name__ == "__main__":
    main()
