"""Number formats for zh-Hans: Django's own leave out the thousands separator, so 52603056
would read as one run of digits; Chinese business documents group by three with commas."""

from django.conf.locale.zh_Hans.formats import *  # noqa: F403

THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
