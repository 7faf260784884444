"""Every response of the running app tells the browser what the page may do: the
Content-Security-Policy (fetch nothing from elsewhere, post no form, frames as the owner says),
X-Content-Type-Options and Referrer-Policy. Checked over HTTP on the page, its assets, the API
and an error; FRAME_ANCESTORS is checked where settings are read."""

from __future__ import annotations

import re

import httpx
import pytest

from causerie.config.page_policy import content_security_policy
from causerie.config.settings import SettingsError, load_settings

from support.apps import RunningApp


def directives(response: httpx.Response) -> dict[str, str]:
    policy = response.headers["content-security-policy"]
    return {name: value for name, _, value in (part.strip().partition(" ") for part in policy.split(";"))}


def test_every_response_carries_the_policy_and_its_companions(app):
    page = httpx.get(app.url)
    asset = re.search(r'src="\./(assets/index-[^"]+\.js)"', page.text).group(1)
    for response in (
        page,
        httpx.get(app.url + asset),
        httpx.get(app.url + "config"),
        httpx.get(app.url + "gradio_api/info"),
        httpx.get(app.url + "no-such-page"),
    ):
        assert directives(response) == directives(page), response.url
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"
    policy = directives(page)
    # Nothing an answer names is fetched from elsewhere, and no form posts anywhere.
    for name in ("img-src", "media-src", "font-src", "connect-src", "default-src"):
        assert "*" not in policy[name] and "http" not in policy[name], name
    assert policy["img-src"] == "'self' data: blob:" and policy["connect-src"] == "'self'"
    assert policy["form-action"] == "'none'" and policy["object-src"] == "'none'" and policy["base-uri"] == "'self'"
    assert policy["frame-ancestors"] == "*"  # a Space is shown in Hugging Face's page, and may be embedded


def test_gradio_monitoring_pages_are_not_served(app):
    """Gradio serves /monitoring unless told not to, and its summary (each event's name, count and
    timings) answered anyone without its key. The owner's cockpit is /admin."""
    for path in ("monitoring", "monitoring/summary"):
        response = httpx.get(app.url + path)
        assert response.status_code == 403, (path, response.status_code)


@pytest.mark.slow  # (waits on real time or starts processes: not in the fast loop)
def test_the_owner_says_who_may_frame_the_app(_scripted):
    running = RunningApp({"OPENAI_BASE_URL": _scripted.base_url, "FRAME_ANCESTORS": "'self'  https://example.com"})
    try:
        response = httpx.get(running.url)
    finally:
        running.close()
    assert directives(response)["frame-ancestors"] == "'self' https://example.com"
    assert directives(response)["img-src"] == "'self' data: blob:"


@pytest.mark.parametrize("value", ["'none'", "https://*.example.org:8443 http://localhost:7860", "'self' https:"])
def test_frame_ancestors_takes_csp_sources(value):
    assert load_settings({"FRAME_ANCESTORS": value}).frame_ancestors == value
    assert f"frame-ancestors {value}" in content_security_policy(value)


@pytest.mark.parametrize(
    "value", ["https://a.example; script-src *", "'none' https://a.example", "'self", "<b>", "https://a.example/path"]
)
def test_a_frame_ancestors_that_is_not_a_list_of_sources_stops_the_start_naming_it(value):
    with pytest.raises(SettingsError, match="FRAME_ANCESTORS must be"):
        load_settings({"FRAME_ANCESTORS": value})
