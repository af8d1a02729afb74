"""The original frontend's calls from a real browser: headless Chromium (Debian's chromium, driven through
Debian's chromedriver with selenium) loads frontend.html from a second origin and calls the API under
gunicorn exactly as the frontend does. CORS is only really tested in a browser: it decides what the page
may see, and it sends the preflights.

- signed out: the home feed with `Authorization: Bearer null` (the page sees the public feed);
- signed in with a token from the local Cognito, got by SRP as Amplify signs in: notifications;
- the profile form's PUT /api/profile/update, which the browser preflights (the API's log shows it);
- a page on an origin the API does not allow sees nothing (the control: the browser enforces CORS).

Without chromium: a failure when CI=true (.ci/provision-browser installs it), else a skip naming the fix.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from pathlib import Path

import boto3
import pytest
from pycognito.aws_srp import AWSSRP

from cruddur_kit import cognito, ddb
from cruddur_kit.bench.stack import Gunicorn, app_env
from cruddur_kit.local.moto import free_port
from testkit import serve

PAGE = Path(__file__).with_name("frontend.html")
CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")
# The flags this machine's Chromium needs (no sandbox as root, no GPU, no calls home on a closed network).
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

if not (CHROMIUM and CHROMEDRIVER):
    if os.environ.get("CI") == "true":
        pytest.fail("chromium and chromedriver are missing: run .ci/provision-browser", pytrace=False)
    pytest.skip("no chromium/chromedriver: sudo .ci/provision-browser installs them", allow_module_level=True)


@pytest.fixture(scope="module")
def page_origin():
    """frontend.html on a loopback port of its own: another origin than the API's."""
    body = PAGE.read_bytes()
    with serve(lambda request: (200, body, "text/html; charset=utf-8")) as url:
        yield url


@pytest.fixture(scope="module")
def api(tmp_path_factory, module_database_url, aws_env, cognito_pool, page_origin):
    """The API under gunicorn as `make up` runs it, allowing the page's origin (FRONTEND_URL)."""
    table = f"cruddur-messages-{uuid.uuid4().hex[:8]}"
    ddb.ensure_table(boto3.client("dynamodb", region_name=aws_env["AWS_DEFAULT_REGION"]), table)
    port = free_port()
    log = tmp_path_factory.mktemp("api") / "gunicorn.log"
    env = app_env(
        database_url=module_database_url,
        endpoint=aws_env["AWS_ENDPOINT_URL"],
        pool=cognito_pool,
        table=table,
        port=port,
        FRONTEND_URL=page_origin,
        GUNICORN_ACCESSLOG="",
    )
    server = Gunicorn(env=env, port=port, log_path=log).start()
    server.log = log
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS + [f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"]:
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    driver.set_script_timeout(30)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def module_database_url(pg_server_url, template_db):
    import psycopg

    from cruddur_kit.local import postgres as pglocal

    name = f"cruddur_b_{uuid.uuid4().hex[:12]}"
    admin = pglocal.with_database(pg_server_url, "postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            psycopg.sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                psycopg.sql.Identifier(name), psycopg.sql.Identifier(template_db)
            )
        )
    yield pglocal.with_database(pg_server_url, name)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(psycopg.sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(psycopg.sql.Identifier(name)))


def srp_token(aws_env, pool, handle: str) -> str:
    """An access token from the local Cognito, signed in by SRP (Amplify's default flow)."""
    idp = boto3.client("cognito-idp", region_name=aws_env["AWS_DEFAULT_REGION"])
    email = cognito.attributes(cognito.find_user_by_handle(idp, pool.pool_id, handle))["email"]
    srp = AWSSRP(
        username=email, password=cognito.DEMO_PASSWORD, pool_id=pool.pool_id, client_id=pool.client_id, client=idp
    )
    return srp.authenticate_user()["AuthenticationResult"]["AccessToken"]


def call(browser, name: str, *args) -> dict:
    """Run one of the page's calls in the browser; what the page saw."""
    return browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "window.cruddur(...Array.from(arguments).slice(0, -1)).then(done, e => done({error: String(e)}));",
        name,
        *args,
    )


def open_page(browser, origin: str, api) -> None:
    browser.get(f"{origin}/frontend.html?backend={api.url}")
    assert browser.execute_script("return typeof window.cruddur") == "function"


def logged(api, method: str, route: str) -> list[dict]:
    lines = [json.loads(line) for line in api.log.read_text().splitlines() if line.startswith('{"time"')]
    return [x for x in lines if x.get("method") == method and x.get("route") == route]


def test_the_frontend_s_calls_from_a_browser_on_another_origin(browser, api, page_origin, aws_env, cognito_pool):
    open_page(browser, page_origin, api)

    # Signed out: the frontend sends `Bearer null`, and sees the public feed.
    browser.execute_script("localStorage.removeItem('access_token')")
    home = call(browser, "home")
    assert home["status"] == 200, home
    assert {a["handle"] for a in home["data"]} >= {"andrewbrown", "londo"}

    # Signed in, with a real token from the local Cognito (SRP, as Amplify): a private read.
    browser.execute_script(
        "localStorage.setItem('access_token', arguments[0])", srp_token(aws_env, cognito_pool, "andrewbrown")
    )
    notifications = call(browser, "notifications")
    assert notifications["status"] == 200 and isinstance(notifications["data"], list), notifications
    assert any(n["notification_kind"] == "mention" for n in notifications["data"])

    # The profile form: PUT, preflighted by the browser (JSON and a token are not "simple").
    saved = call(browser, "profile_update", "Andrew from the browser", "Saved with PUT")
    assert saved["status"] == 200, saved
    assert (saved["data"]["display_name"], saved["data"]["bio"]) == ("Andrew from the browser", "Saved with PUT")
    deadline = time.monotonic() + 10  # the log lines reach the file in batches (~20 ms), one per worker
    while (
        not (logged(api, "OPTIONS", "/api/profile/update") and logged(api, "PUT", "/api/profile/update"))
        and time.monotonic() < deadline
    ):
        time.sleep(0.05)
    assert [x["status"] for x in logged(api, "OPTIONS", "/api/profile/update")] == [200]
    assert [x["status"] for x in logged(api, "PUT", "/api/profile/update")] == [200]

    # Signed out again (the frontend's sign-out clears the token): the public feed once more.
    browser.execute_script("localStorage.removeItem('access_token')")
    assert call(browser, "home")["status"] == 200


def test_a_page_on_an_origin_the_api_does_not_allow_sees_nothing(browser, api, page_origin):
    """The control: the same page from another origin (localhost is not 127.0.0.1 to a browser)."""
    other = page_origin.replace("127.0.0.1", "localhost")
    open_page(browser, other, api)
    refused = call(browser, "home")
    assert refused["status"] is None and "Failed to fetch" in refused["error"], refused
