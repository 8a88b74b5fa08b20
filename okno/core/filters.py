"""Filter fields shared by the FilterSets of every app: ids and moments within sane bounds, so that a
hostile query string gets a 400 with a field error instead of an overflow deep in the database layer."""

from __future__ import annotations

import datetime as dt

import django_filters as filters
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.translation import gettext_lazy as _

MAX_ID = 2**63 - 1


def _sane_moment(value: dt.datetime | dt.date | None) -> None:
    if value is not None and not 1900 <= value.year <= 2200:
        raise ValidationError(_("Enter a date between the years 1900 and 2200."))


class IdFilter(filters.NumberFilter):
    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("validators", [MinValueValidator(1), MaxValueValidator(MAX_ID)])
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]


class MomentFilter(filters.IsoDateTimeFilter):
    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("validators", [_sane_moment])
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]


class DayFilter(filters.DateFilter):
    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("validators", [_sane_moment])
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
