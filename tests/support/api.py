"""Signing in to the HTTP API in tests: a user (created if missing) and its bearer header."""

from blocks.context import database
from interfaces.api import create_app
from interfaces.runs import Launcher
from tunefleet import users

PASSWORD = "correct horse battery"


def login(client, backend, email="test@test.com", role="user") -> dict:
    """The token pair of ``email`` (created with ``role`` if it does not exist)."""
    if users.by_email(database(backend), email) is None:
        users.create(database(backend), email, PASSWORD, role)
    response = client.post("/auth/token", data={"username": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return response.json()


def bearer(tokens: dict) -> dict:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


def signed_in(client, backend, email="test@test.com", role="user"):
    """``client`` sending ``email``'s token with every request."""
    client.headers.update(bearer(login(client, backend, email, role)))
    return client


def app_in_process(settings):
    """The API with its embedded jobs run in a thread of this process, not apart in a child process:
    a child costs ~4 s a job here (Python, Prefect and the flow's imports). The tests of the child
    process itself (tests/flows/test_attacks.py) use ``create_app(settings)``, as production does."""
    return create_app(settings, launcher=Launcher(settings))
