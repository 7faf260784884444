"""Public-Space safety, through the running app: sign-in on every API route, a visitor's key on the
API, limits that trip and recover, and no key anywhere it could leak."""

from __future__ import annotations

import hashlib
import json
import logging
import time
from base64 import b64encode

import httpx
import pytest
from gradio_client import Client
from itsdangerous import TimestampSigner

from support.apps import RunningApp
from support.keys import LOGIN_TOKEN, SERVER_KEY, VISITOR_KEY

OAUTH_SECRET = "oauth-client-secret-for-tests"


def queue_join(url: str, api_name: str, data: list, **kw) -> httpx.Response:
    """Join the queue for an API endpoint as an anonymous HTTP client would."""
    config = httpx.get(url + "config", **kw)
    if config.status_code != 200:
        return config
    fn_index = next(d["id"] for d in config.json()["dependencies"] if d.get("api_name") == api_name)
    return httpx.post(url + "gradio_api/queue/join", json={"data": data, "fn_index": fn_index, "session_hash": "anon"}, **kw)


@pytest.mark.slow  # (waits on real time or starts processes: not in the fast loop)
def test_with_auth_users_every_route_refuses_anonymous_calls(scripted, tmp_path):
    app = RunningApp(
        {"OPENAI_BASE_URL": scripted.base_url, "AUTH_USERS": "alice:alice-password", "CAUSERIE_DATA_DIR": str(tmp_path)}
    )
    try:
        for path in (
            "config",
            "gradio_api/info",
            "gradio_api/call/chat",
            "gradio_api/queue/join",
            "gradio_api/upload",
            "gradio_api/run/chat",
        ):
            method = httpx.get if path in ("config", "gradio_api/info") else httpx.post
            response = method(app.url + path, **({} if method is httpx.get else {"json": {"data": ["hi"]}}))
            assert response.status_code in (401, 403), (path, response.status_code)
        assert not scripted.requests
        from gradio_client import Client

        signed_in = Client(app.url, auth=("alice", "alice-password"), verbose=False)
        assert signed_in.predict("Hello?", api_name="/chat") == "Hello there!"
    finally:
        app.close()


def session_cookie(session: dict) -> str:
    """The cookie Gradio's session middleware sets after a Hugging Face login (as a Space's
    login callback would), signed with the secret it derives from OAUTH_CLIENT_SECRET."""
    secret = hashlib.sha256((OAUTH_SECRET + "-v4").encode()).hexdigest()
    return TimestampSigner(secret).sign(b64encode(json.dumps(session).encode())).decode()


@pytest.fixture
def space_with_login(scripted, tmp_path, monkeypatch):
    """The app as a Space with `hf_oauth: true` and REQUIRE_LOGIN=1 runs it (Gradio reads the
    OAuth variables when it is imported: they are set on its module here)."""
    import gradio.oauth

    for name, value in {
        "OAUTH_CLIENT_ID": "client-id",
        "OAUTH_CLIENT_SECRET": OAUTH_SECRET,
        "OAUTH_SCOPES": "openid profile inference-api",
        "OPENID_PROVIDER_URL": "http://127.0.0.1:9",
    }.items():
        monkeypatch.setattr(gradio.oauth, name, value)
    monkeypatch.setenv("SYSTEM", "spaces")
    monkeypatch.setenv("SPACE_ID", "tester/causerie")
    app = RunningApp(
        {
            "SPACE_ID": "tester/causerie",
            "OAUTH_CLIENT_ID": "client-id",
            "REQUIRE_LOGIN": "1",
            "HF_TOKEN": SERVER_KEY,
            "HF_BASE_URL": scripted.base_url,
            "HF_BILL_VISITORS": "1",
            "CAUSERIE_DATA_DIR": str(tmp_path),
            "HISTORY_SECRET": "s" * 32,
        }
    )
    yield app
    app.close()


# On a Space, Gradio also starts its hot-reload watcher, which needs the `spaces` package of a real one.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
@pytest.mark.slow  # (waits on real time or starts processes: not in the fast loop)
def test_login_required_refuses_anonymous_api_calls_and_bills_the_visitor(space_with_login, scripted):
    from gradio_client import Client

    app = space_with_login
    with pytest.raises(Exception, match="signed-in people only"):
        Client(app.url, verbose=False).predict("Hello?", api_name="/chat")
    assert not scripted.requests
    login = {
        "oauth_info": {
            "access_token": LOGIN_TOKEN,
            "expires_at": int(time.time()) + 3600,
            "userinfo": {"preferred_username": "alice"},
        }
    }
    alice = Client(app.url, verbose=False, httpx_kwargs={"cookies": {"session": session_cookie(login)}})
    assert alice.predict("Hello?", api_name="/chat") == "Hello there!"
    # The Hugging Face router is billed to alice's own account, not the owner's HF_TOKEN.
    assert scripted.requests[-1]["headers"]["authorization"] == f"Bearer {LOGIN_TOKEN}"
    expired = {"oauth_info": {**login["oauth_info"], "expires_at": 1}}
    with pytest.raises(Exception, match="signed-in people only"):
        Client(app.url, verbose=False, httpx_kwargs={"cookies": {"session": session_cookie(expired)}}).predict(
            "Hello?", api_name="/chat"
        )


@pytest.fixture
def public_app(scripted):
    app = RunningApp(
        {"OPENAI_BASE_URL": scripted.base_url, "OPENAI_API_KEY": SERVER_KEY, "PUBLIC_MODE": "1", "RATE_LIMIT_PER_MINUTE": "3"}
    )
    yield app
    app.close()


@pytest.mark.slow  # (waits on real time or starts processes: not in the fast loop)
def test_api_limits_trip_and_recover_and_a_visitor_key_leaks_nowhere(public_app, scripted, caplog):
    caplog.set_level(logging.DEBUG)
    app, api = public_app, public_app.client()
    started = time.monotonic()
    with pytest.raises(Exception, match="at most 30,000"):
        api.predict("x" * 1_000_000, api_name="/chat")
    assert time.monotonic() - started < 2.0 and not scripted.requests
    # Nothing goes around the queue (and its limits): the direct route is closed.
    assert httpx.post(app.url + "gradio_api/run/chat", json={"data": ["Hello?"]}).status_code >= 400
    assert not scripted.requests
    # The app carries on, and the refused message did not count against the limit.
    assert api.predict("Hello?", api_name="/chat") == "Hello there!"
    assert scripted.requests[-1]["headers"]["authorization"] == f"Bearer {SERVER_KEY}"
    assert (
        api.predict("Hello?", None, None, "openai", "model-a", None, None, None, None, VISITOR_KEY, api_name="/chat")
        == "Hello there!"
    )
    assert scripted.requests[-1]["headers"]["authorization"] == f"Bearer {VISITOR_KEY}"
    details = api.predict("Again?", api_name="/chat_details")
    assert details["answer"] == "Hello there!" and details["notices"] == []
    with pytest.raises(Exception, match=r"3 questions in the last minute.*RATE_LIMIT_PER_MINUTE"):
        api.predict("One more?", api_name="/chat")
    assert len([r for r in scripted.requests if r["path"] == "/v1/chat/completions"]) == 3
    clock = app.service.allowance.clock
    app.service.allowance.clock = lambda: clock() + 61  # a minute later
    assert api.predict("And now?", api_name="/chat") == "Hello there!"
    # A custom endpoint is refused in public mode; the key given with it is not echoed.
    with pytest.raises(Exception, match="ALLOW_CUSTOM_ENDPOINTS") as refused:
        api.predict("Hi", None, None, "openai", "m", None, None, None, None, VISITOR_KEY, "http://10.0.0.1/v1", api_name="/chat")
    assert VISITOR_KEY not in str(refused.value)
    # Nowhere else either: not in the page, its config, the API's description or any log line.
    for path in ("", "config", "gradio_api/info"):
        assert VISITOR_KEY not in httpx.get(app.url + path).text
    assert VISITOR_KEY not in caplog.text and SERVER_KEY not in caplog.text
    answers = [json.loads(r.getMessage()) for r in caplog.records if r.name == "causerie.answers"]
    assert [a["status"] for a in answers] == ["too_long", "ok", "ok", "ok", "limited", "ok", "endpoint_refused"]
    assert "Hello" not in json.dumps(answers)  # no content without LOG_CONTENT


@pytest.mark.slow  # (waits on real time or starts processes: not in the fast loop)
def test_a_forwarded_address_counts_only_as_trusted_proxy_hops_say(public_app, scripted):
    """With TRUSTED_PROXY_HOPS=0 (the default off a Space), uvicorn still rewrote the client address
    from X-Forwarded-For for loopback peers, so a client with a new header per call was never rate
    limited. The app's own setting decides: here, no proxy is trusted, and the peer is counted."""
    assert public_app.service.settings.public.proxy_hops == 0
    for n in range(3):
        client = Client(public_app.url, verbose=False, headers={"X-Forwarded-For": f"198.51.100.{n}"})
        assert client.predict("Hello?", api_name="/chat") == "Hello there!"
    client = Client(public_app.url, verbose=False, headers={"X-Forwarded-For": "198.51.100.99", "Forwarded": "for=203.0.113.1"})
    with pytest.raises(Exception, match="RATE_LIMIT_PER_MINUTE"):
        client.predict("Hello?", api_name="/chat")
