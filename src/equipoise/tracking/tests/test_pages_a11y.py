"""What screen-reader and keyboard users rely on in the tracking and home pages, through the Django
test client: names, roles and live regions (focus itself is checked in test_browser_a11y)."""

import pytest

from equipoise.tracking.tests.conftest import get_as

pytestmark = pytest.mark.usefixtures("on_15_march_2027")


def test_the_charts_are_labelled_figures_not_images_with_buttons_inside(client, data):
    content = get_as(client, data.org.executive, "/tracking/").content.decode()

    assert content.count('class="chart" role="figure" aria-label="') == 2
    assert 'role="img"' not in content
    # The charts' tool bar offers no upload to Plotly's cloud: the product runs on a closed network.
    assert content.count("showSendToCloud: false") == 1
    assert 'setAttribute("aria-hidden", "true")' in content


def test_a_message_the_form_shows_can_take_focus(client, data):
    response = get_as(client, data.org.executive, "/tracking/table/", {"from": "2027-03-01", "to": "2027-01-31"}, HTTP_HX_REQUEST="true")

    content = response.content.decode()
    assert "swap the dates" in content
    assert 'role="alert" id="tracking-error" tabindex="-1"' in content


def test_a_scope_with_nothing_to_choose_is_text_not_a_label_without_a_control(client, data):
    content = get_as(client, data.org.seller, "/tracking/").content.decode()

    assert '<label class="form-label small mb-1" for="tracking-scope">' not in content
    assert '<span class="form-label small mb-1 d-inline-block">Scope</span>' in content
    assert 'id="tracking-scope">Sam Seller</p>' in content


def test_a_scope_to_choose_keeps_its_label(client, data):
    content = get_as(client, data.org.manager, "/tracking/").content.decode()

    assert '<label class="form-label small mb-1" for="tracking-scope">Scope</label>' in content


def test_the_home_page_has_a_polite_live_region_outside_the_card_htmx_replaces(client, data):
    content = get_as(client, data.org.manager, "/").content.decode()

    region = '<p class="visually-hidden" id="retention-announcement" role="status" aria-live="polite"></p>'
    assert region in content
    card = content.split('id="retention-glance"')[1].split("</section>")[0]
    assert "retention-announcement" not in card
    assert 'addEventListener("htmx:load", arrived)' in content
