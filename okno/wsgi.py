"""WSGI entry point used by ``okno serve`` (gunicorn)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "okno.settings")
application = get_wsgi_application()
