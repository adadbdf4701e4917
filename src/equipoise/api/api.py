"""The Equipoise REST API, version 1 (django-ninja). Each domain contributes a router."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, ValidationError
from ninja.security import APIKeyCookie, HttpBearer

from equipoise.api.tokens import token_user
from equipoise.core.errors import ApplicationError


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any | None:
        user = token_user(token)
        if user is not None:
            request.user = user
        return user


class SessionAuth(APIKeyCookie):
    """The browser's session (with CSRF on unsafe methods), for pages that call the API."""

    param_name = "sessionid"

    def authenticate(self, request: HttpRequest, key: str | None) -> Any | None:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return user
        return None


api = NinjaAPI(
    title="Equipoise API",
    version="1",
    description="Plans, buckets, quotas and commits. Authenticate with `Authorization: Bearer <token>` "
    "(create one with `equipoise token create --user NAME`).",
    auth=[BearerToken(), SessionAuth()],
    urls_namespace="api-v1",
)


@api.exception_handler(ApplicationError)
def application_error(request: HttpRequest, exc: ApplicationError) -> HttpResponse:
    return api.create_response(request, exc.as_dict(), status=exc.status_code)


@api.exception_handler(AuthenticationError)
def authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return api.create_response(request, {"error": "Authentication required: send Authorization: Bearer <token>."}, status=401)


@api.exception_handler(ValidationError)
def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    problems = []
    for error in exc.errors:
        location = [str(part) for part in error.get("loc", ()) if part not in ("body", "payload", "query", "path")]
        problems.append({"field": ".".join(location), "error": error.get("msg", "invalid")})
    first = problems[0] if problems else {"field": "", "error": "invalid input"}
    return api.create_response(request, {"error": first["error"], "field": first["field"], "errors": problems}, status=400)
