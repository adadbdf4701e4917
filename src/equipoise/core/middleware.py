from __future__ import annotations

from collections.abc import Callable

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from equipoise.core.errors import AccessDenied, ApplicationError, NotFound


class ApplicationErrorMiddleware:
    """Pages: an ApplicationError that escapes a view becomes a readable error page.

    Views handle form errors themselves; this is the safety net, so a user never sees a 500
    for a mistake they can fix. NotFound becomes Django's 404.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, NotFound):
            raise Http404(exception.message)
        if isinstance(exception, ApplicationError):
            status = 403 if isinstance(exception, AccessDenied) else 400
            return render(request, "web/error.html", {"error": exception}, status=status)
        return None
