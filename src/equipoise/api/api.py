"""The Equipoise REST API, version 1 (django-ninja). Each domain contributes a router."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ninja
from django.conf import settings
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.urls import reverse
from django.utils.html import escape, json_script
from ninja import NinjaAPI, Swagger
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import APIKeyCookie, HttpBearer

from equipoise.api.tokens import token_user
from equipoise.core.errors import ApplicationError
from equipoise.planning.api import router as planning_router
from equipoise.quotas.api import router as quotas_router


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any | None:
        user = token_user(token)
        if user is not None:
            request.user = user
        return user


class SessionAuth(APIKeyCookie):
    """The browser's session (with CSRF on unsafe methods), for pages that call the API."""

    param_name = settings.SESSION_COOKIE_NAME

    def _get_key(self, request: HttpRequest) -> str | None:
        # Without a session cookie there is no session to protect: skip the CSRF check, so an
        # integration that forgot its token hears 401 (not "CSRF check failed").
        if self.param_name not in request.COOKIES:
            return None
        return super()._get_key(request)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any | None:
        if key is None:
            return None
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return user
        return None


# Swagger UI's files ship inside the ninja package; the docs page loads them from here rather than
# from a CDN, because the product must work on a closed network.
_DOCS_ASSETS = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui-init.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "favicon.svg": "image/svg+xml",
    "favicon.png": "image/png",
}
_DOCS_ASSET_DIR = Path(ninja.__file__).parent / "static" / "ninja"


class LocalSwagger(Swagger):
    """Swagger UI with its JavaScript and CSS served by this API (see ``docs_asset``), never a CDN."""

    # No online validator: Swagger UI would otherwise show a badge loaded from validator.swagger.io
    # (sending it the schema's address) whenever the page is served from a host other than localhost.
    default_settings = {**Swagger.default_settings, "validatorUrl": None}

    def render_page(self, request: HttpRequest, api: NinjaAPI, **kwargs: Any) -> HttpResponse:
        self.settings["url"] = self.get_openapi_url(api, kwargs)

        def asset(name: str) -> str:
            return escape(reverse(f"{api.urls_namespace}:docs-asset", kwargs={"name": name}))

        # The session CSRF token lets a signed-in user try unsafe methods from the page.
        csrf = escape(get_token(request))
        html = (
            "<!DOCTYPE html>\n<html lang='en'>\n<head>\n<meta charset='utf-8'>\n"
            f"<title>{escape(api.title)}</title>\n"
            f"<link rel='stylesheet' href='{asset('swagger-ui.css')}'>\n"
            f"<link rel='icon' href='{asset('favicon.svg')}' type='image/svg+xml'>\n"
            "</head>\n"
            f"<body data-csrf-token='{csrf}' data-api-csrf='true'>\n"
            f"{json_script(self.settings, 'swagger-settings')}\n"
            "<div id='swagger-ui'></div>\n"
            f"<script src='{asset('swagger-ui-bundle.js')}'></script>\n"
            f"<script src='{asset('swagger-ui-init.js')}'></script>\n"
            "</body>\n</html>\n"
        )
        return HttpResponse(html)


api = NinjaAPI(
    title="Equipoise API",
    version="1",
    description="Plans, buckets, quotas, commits, results and tracking. Authenticate with `Authorization: Bearer <token>` "
    "(create one with `equipoise token create --user NAME`). Amounts are integer minor units (`*_minor`) "
    "with their `currency`, and exact decimal strings; months are `YYYY-MM`.",
    auth=[BearerToken(), SessionAuth()],
    urls_namespace="api-v1",
    docs=LocalSwagger(),
)


@api.get("/docs/assets/{name}", auth=None, include_in_schema=False, url_name="docs-asset")
def docs_asset(request: HttpRequest, name: str) -> FileResponse:
    content_type = _DOCS_ASSETS.get(name)
    if content_type is None:  # only the known files: never a path into the file system
        raise Http404(name)
    response = FileResponse((_DOCS_ASSET_DIR / name).open("rb"), content_type=content_type)
    response["Cache-Control"] = "public, max-age=86400"
    return response


@api.exception_handler(ApplicationError)
def application_error(request: HttpRequest, exc: ApplicationError) -> HttpResponse:
    return api.create_response(request, exc.as_dict(), status=exc.status_code)


@api.exception_handler(AuthenticationError)
def authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = api.create_response(request, {"error": "Authentication required: send Authorization: Bearer <token>."}, status=401)
    response["WWW-Authenticate"] = 'Bearer realm="equipoise"'
    return response


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    """ninja's own refusals (unparsable body, failed CSRF check) in the same shape as ours."""
    return api.create_response(request, {"error": exc.message}, status=exc.status_code)


@api.exception_handler(Http404)
def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return api.create_response(request, {"error": "Not found."}, status=404)


@api.exception_handler(ValidationError)
def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    problems = []
    for error in exc.errors:
        location = [str(part) for part in error.get("loc", ()) if part not in ("body", "payload", "query", "path", "filters")]
        problems.append({"field": ".".join(location), "error": error.get("msg", "invalid")})
    first = problems[0] if problems else {"field": "", "error": "invalid input"}
    return api.create_response(request, {"error": first["error"], "field": first["field"], "errors": problems}, status=400)


api.add_router("", planning_router)
api.add_router("", quotas_router)
api.add_router("/results", "equipoise.results.api.router")
api.add_router("", "equipoise.tracking.api.router")
api.add_router("", "equipoise.results.retention_api.router")
