"""Error pages: a 404, 403 or 500 is the application's page, in its layout, saying what happened."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.test import RequestFactory
from django.views import defaults

pytestmark = pytest.mark.django_db


def test_an_unknown_address_is_the_applications_404_with_its_navigation(client: Any, org: Any) -> None:
    client.force_login(org.seller)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "Nothing to show here" in page
    assert "/no-such-page/" in page
    assert "Sign out" in page  # the layout, not Django's bare page
    assert "Sam Seller" in page


def test_a_page_outside_the_role_is_a_404_that_says_so(client: Any, org: Any) -> None:
    client.force_login(org.manager)
    response = client.get("/results/imports/")
    assert response.status_code == 404
    assert "not one your role can open" in response.content.decode()


def test_a_404_with_a_reason_shows_the_reason() -> None:
    request = RequestFactory().get("/tracking/")
    request.user = _anonymous()
    response = defaults.page_not_found(request, _http404("That customer was not found."))
    assert response.status_code == 404
    assert "That customer was not found." in response.content.decode()


def test_permission_denied_is_the_applications_403() -> None:
    request = RequestFactory().get("/")
    request.user = _anonymous()
    response = defaults.permission_denied(request, PermissionDenied("Only sales operations may do that."))
    assert response.status_code == 403
    page = response.content.decode()
    assert "Your role cannot open this" in page
    assert "Only sales operations may do that." in page


def test_a_server_error_page_renders_without_any_context_and_says_nothing_was_half_saved() -> None:
    response = defaults.server_error(RequestFactory().get("/"))
    assert response.status_code == 500
    page = response.content.decode()
    assert "Something went wrong on our side" in page
    assert "saved whole or not at all" in page


def _anonymous() -> Any:
    from django.contrib.auth.models import AnonymousUser

    return AnonymousUser()


def _http404(message: str) -> Exception:
    from django.http import Http404

    return Http404(message)
