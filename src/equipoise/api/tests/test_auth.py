"""Who may call the API: bearer tokens, the browser session, and nobody else. Plus the published schema and docs."""

import json

from equipoise.api.models import ApiToken
from equipoise.api.tokens import token_create, token_revoke
from equipoise.planning.models import PlanVersion

AUTH_REQUIRED = {"error": "Authentication required: send Authorization: Bearer <token>."}


def test_no_credentials_is_401_json(org, client):
    response = client.get("/api/v1/plans")

    assert response.status_code == 401
    assert response.json() == AUTH_REQUIRED
    assert response["WWW-Authenticate"] == 'Bearer realm="equipoise"'


def test_no_credentials_on_a_write_is_401_not_a_csrf_failure_and_creates_nothing(org, client):
    response = client.post("/api/v1/plans", {"name": "X", "start_month": "2027-01"}, content_type="application/json")

    assert response.status_code == 401
    assert response.json() == AUTH_REQUIRED
    assert PlanVersion.objects.count() == 0


def test_bearer_token_authenticates_as_its_user(org, approved_plan, client):
    _, plain = token_create(username="executive")

    response = client.get("/api/v1/plans", HTTP_AUTHORIZATION=f"Bearer {plain}")

    assert response.status_code == 200
    assert [plan["id"] for plan in response.json()["items"]] == [approved_plan.pk]
    assert ApiToken.objects.get().last_used_at is not None


def test_revoked_token_is_401(org, client):
    record, plain = token_create(username="executive")
    token_revoke(token=record)

    response = client.get("/api/v1/plans", HTTP_AUTHORIZATION=f"Bearer {plain}")

    assert response.status_code == 401
    assert response.json() == AUTH_REQUIRED


def test_garbage_token_is_401(org, client):
    for header in ("Bearer nonsense", "Bearer eqp_not-a-real-token", "Basic dXNlcjpwYXNz", "Bearer "):
        response = client.get("/api/v1/plans", HTTP_AUTHORIZATION=header)
        assert response.status_code == 401, header
        assert response.json() == AUTH_REQUIRED


def test_token_of_a_deactivated_user_is_401(org, client):
    _, plain = token_create(username="executive")
    org.executive.is_active = False
    org.executive.save()

    response = client.get("/api/v1/plans", HTTP_AUTHORIZATION=f"Bearer {plain}")

    assert response.status_code == 401


def test_session_of_a_signed_in_user_authenticates(org, approved_plan, client):
    client.force_login(org.executive)

    response = client.get(f"/api/v1/plans/{approved_plan.pk}")

    assert response.status_code == 200
    assert response.json()["name"] == "FY27-28 plan"


def test_session_write_without_csrf_token_is_refused_and_creates_nothing(org):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(org.executive)

    response = browser.post("/api/v1/plans", {"name": "X", "start_month": "2027-01"}, content_type="application/json")

    assert response.status_code == 403
    assert response.json() == {"error": "CSRF check Failed"}
    assert PlanVersion.objects.count() == 0


def test_bearer_write_needs_no_csrf_token(org):
    from django.test import Client

    integration = Client(enforce_csrf_checks=True)
    _, plain = token_create(username="executive")

    response = integration.post(
        "/api/v1/plans",
        {"name": "Scenario A", "start_month": "2027-01", "total_target_minor": 0},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {plain}",
    )

    assert response.status_code == 201
    assert PlanVersion.objects.get().name == "Scenario A"


def test_unparsable_body_is_400_json(org, bearer, client):
    response = client.post("/api/v1/plans", "{not json", content_type="application/json", **bearer(org.executive))

    assert response.status_code == 400
    assert response.json() == {"error": "Cannot parse request body"}


def test_openapi_schema_loads_without_credentials_and_names_the_bearer_scheme(db, client):
    response = client.get("/api/v1/openapi.json")

    assert response.status_code == 200
    schema = response.json()
    assert schema["info"]["title"] == "Equipoise API"
    assert schema["components"]["securitySchemes"]["BearerToken"] == {"type": "http", "scheme": "bearer"}
    assert {"/api/v1/plans", "/api/v1/plans/{plan_id}", "/api/v1/quotas", "/api/v1/commits"} <= set(schema["paths"])
    assert {"BearerToken": []} in schema["paths"]["/api/v1/plans"]["get"]["security"]
    assert "/api/v1/docs/assets/{name}" not in schema["paths"]


def test_docs_page_loads_its_assets_from_this_server_not_a_cdn(db, client):
    page = client.get("/api/v1/docs")

    assert page.status_code == 200
    html = page.content.decode()
    assert "cdn" not in html.lower()
    assert "http://" not in html and "https://" not in html
    assert "<script src='/api/v1/docs/assets/swagger-ui-bundle.js'></script>" in html
    assert '"url": "/api/v1/openapi.json"' in html
    for name, content_type in (("swagger-ui-bundle.js", "text/javascript"), ("swagger-ui.css", "text/css")):
        asset = client.get(f"/api/v1/docs/assets/{name}")
        assert asset.status_code == 200
        assert asset["Content-Type"] == content_type
        assert len(b"".join(asset.streaming_content)) > 1000


def test_docs_assets_serve_only_known_files(db, client):
    for name in ("settings.py", "redoc.standalone.js.map", "swagger-ui-bundle.js.map"):
        response = client.get(f"/api/v1/docs/assets/{name}")
        assert response.status_code == 404
        assert response.json() == {"error": "Not found."}
    # A path out of the asset directory never reaches the view: the URL does not match.
    assert client.get("/api/v1/docs/assets/..%2F..%2F__init__.py").status_code == 404


def test_docs_page_turns_off_swagger_uis_online_validator(db, client):
    # Given Swagger UI, which by default loads a badge from validator.swagger.io on any host but localhost
    # When the docs page is served
    html = client.get("/api/v1/docs", HTTP_HOST="testserver").content.decode()
    settings_json = html.split('<script id="swagger-settings" type="application/json">')[1].split("</script>")[0]

    # Then its settings name no validator, so the page asks nothing of the internet on a closed network
    assert json.loads(settings_json) == {"layout": "BaseLayout", "deepLinking": True, "validatorUrl": None, "url": "/api/v1/openapi.json"}
