"""The web's settings: checked at start in one line, the secret key never shown, and
no web app without a key except in development on this machine."""
from __future__ import annotations

import pytest

from app.web.auth import web_secret
from services.core.settings import Settings
from statemachine.errors import InvalidInput, Misconfigured

KEY = "k" * 32


def test_the_public_url_defaults_to_the_apps_own_address():
    assert Settings().web_url == "http://127.0.0.1:8000"
    assert Settings(web_host="::1", web_port=8443).web_url == "http://[::1]:8443"
    assert Settings(public_url="https://rectify.example.test/").web_url == "https://rectify.example.test"


@pytest.mark.parametrize("env,message", [
    ({"RECTIFY_PUBLIC_URL": "rectify.example.test"},
     "RECTIFY_PUBLIC_URL: 'rectify.example.test' is not an http(s) URL without query or fragment"),
    ({"RECTIFY_PUBLIC_URL": "https://x.test/?a=1"},
     "RECTIFY_PUBLIC_URL: 'https://x.test/?a=1' is not an http(s) URL without query or fragment"),
    ({"RECTIFY_WEB_PORT": "web"}, "RECTIFY_WEB_PORT: 'web' is not a port number"),
    ({"RECTIFY_SESSION_IDLE_MINUTES": "0"}, "RECTIFY_SESSION_IDLE_MINUTES: '0': input should be greater than 0"),
    ({"RECTIFY_LOCK_AFTER": "x"},
     "RECTIFY_LOCK_AFTER: 'x': input should be a valid integer, unable to parse string as an integer"),
])
def test_a_bad_web_setting_is_one_line_naming_it(env, message):
    with pytest.raises(InvalidInput) as e:
        Settings.from_env(env)
    assert str(e.value) == message


def test_the_secret_key_is_never_shown():
    with pytest.raises(InvalidInput) as e:
        Settings.from_env({"RECTIFY_SECRET_KEY": "sh0rt-secret"})
    assert "sh0rt-secret" not in str(e.value) and "at least 32 characters" in str(e.value)
    assert KEY not in repr(Settings(secret_key=KEY))


def test_no_web_app_without_a_key_but_in_development_on_this_machine():
    with pytest.raises(Misconfigured, match="RECTIFY_SECRET_KEY is not set"):
        web_secret(Settings())
    assert web_secret(Settings(secret_key=KEY)) == KEY.encode()
    dev = [web_secret(Settings(web_dev=True, web_host=h)) for h in ("127.0.0.1", "localhost", "::1")]
    assert len(set(dev)) == 3 and all(len(k) == 32 for k in dev)  # random, one per process
    for host in ("0.0.0.0", "10.1.2.3", "rectify.example.test"):
        with pytest.raises(Misconfigured, match="this machine only"):
            web_secret(Settings(web_dev=True, web_host=host))
