"""Helpers for API tests: bearer headers for a persona, JSON requests through the Django test client."""

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from equipoise.api.tokens import token_create


@pytest.fixture
def bearer(db: Any) -> Callable[[Any], dict[str, str]]:
    """Headers that authenticate as ``user`` with a fresh API token."""

    def headers(user: Any) -> dict[str, str]:
        _, plain = token_create(username=user.username, name="test")
        return {"HTTP_AUTHORIZATION": f"Bearer {plain}"}

    return headers


@pytest.fixture
def call(client: Client, bearer: Callable[[Any], dict[str, str]]) -> Callable[..., Any]:
    """``call(user, "post", "/api/v1/plans", {...})``: a JSON request as ``user`` (None: no credentials)."""

    def request(user: Any, method: str, path: str, body: Any = None) -> Any:
        headers = bearer(user) if user is not None else {}
        send = getattr(client, method)
        if method == "get":
            return send(path, body or {}, **headers)
        return send(path, body if body is not None else "", content_type="application/json", **headers)

    return request
