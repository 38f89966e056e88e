"""Formats for zh-Hans.

- Numbers: Django's own leave out the thousands separator, so 52603056 would read as one run
  of digits; Chinese business documents group by three with commas.
- Dates in forms: Django's first input format is "%Y/%m/%d", the one a field is rendered
  with; a browser's date picker (<input type="date">) reads only ISO dates, so it showed such
  a value as empty and saving the form lost the date. ISO comes first; the others are still
  accepted when typed.
"""

from django.conf.locale.zh_Hans.formats import *  # noqa: F403
from django.conf.locale.zh_Hans.formats import DATE_INPUT_FORMATS as _DATES
from django.conf.locale.zh_Hans.formats import DATETIME_INPUT_FORMATS as _DATETIMES

THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
DATE_INPUT_FORMATS = ["%Y-%m-%d", *(f for f in _DATES if f != "%Y-%m-%d")]
DATETIME_INPUT_FORMATS = [
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    *(f for f in _DATETIMES if f not in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M")),
]
