"""Request types the views share."""

from __future__ import annotations

from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    """A request seen through django-htmx's middleware (``request.htmx``), for type checking."""

    htmx: HtmxDetails
