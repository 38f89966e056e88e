"""Shared pytest fixtures: role users, Playwright on Debian's Chromium."""

import os

import pytest

from keycare.users.choices import Role

CHROMIUM = os.environ.get("KEYCARE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="session", autouse=True)
def _private_media_root(tmp_path_factory):
    """Attachments written by tests go to a temporary directory that pytest cleans up."""
    from django.conf import settings

    settings.KEYCARE_PRIVATE_MEDIA_ROOT = tmp_path_factory.mktemp("private")


@pytest.fixture(autouse=True)
def _empty_cache():
    """Every test starts with an empty cache (computed figures are cached by their inputs;
    a test's data must never meet another test's figures)."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _seeded_defaults(request):
    """The rows the data migrations seed (the business calendar and SLA policies; the first
    scorecard, the qualitative criteria, the service strategies, the insights settings, the
    concession policies) are
    what a real installation has; a transactional test (the browser tests) empties the
    database when it ends, so every test that uses the database gets whichever of them are
    missing put back first, whatever order the tests run in."""
    marker = request.node.get_closest_marker("django_db")
    fixtures = set(request.fixturenames)
    if marker is None and not fixtures & {"db", "transactional_db"}:
        return
    transactional = "transactional_db" in fixtures or bool(
        marker and marker.kwargs.get("transaction")
    )
    request.getfixturevalue("transactional_db" if transactional else "db")
    from keycare.insights.defaults import insights_defaults_ensure
    from keycare.profitability.defaults import profitability_defaults_ensure
    from keycare.profitability.models import ConcessionPolicy, ProfitabilitySettings
    from keycare.service.defaults import service_defaults_ensure

    service_defaults_ensure()
    insights_defaults_ensure()
    if not ConcessionPolicy.objects.exists():
        profitability_defaults_ensure(ConcessionPolicy, ProfitabilitySettings)
    from django.apps import apps

    from keycare.engagement.defaults import seed as engagement_defaults_seed

    engagement_defaults_seed(apps)


@pytest.fixture
def private_root(settings, tmp_path):
    """A private media root of the test's own, to count the files an upload leaves."""
    settings.KEYCARE_PRIVATE_MEDIA_ROOT = tmp_path / "private"
    return settings.KEYCARE_PRIVATE_MEDIA_ROOT


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    # No browser download is possible: drive Debian's Chromium.
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "headless": True,
        "args": CHROMIUM_ARGS,
    }


@pytest.fixture
def make_user(db):
    from keycare.users.tests.factories import UserFactory

    def make(*roles: str, **kwargs):
        return UserFactory(roles=list(roles), **kwargs)

    return make


@pytest.fixture
def admin_user(make_user):
    return make_user(Role.ADMINISTRATOR, username="admin1")


@pytest.fixture
def executive(make_user):
    return make_user(Role.EXECUTIVE, username="exec1")


@pytest.fixture
def kam(make_user):
    return make_user(Role.KEY_ACCOUNT_MANAGER, username="kam1")


@pytest.fixture
def other_kam(make_user):
    return make_user(Role.KEY_ACCOUNT_MANAGER, username="kam2")


@pytest.fixture
def service_manager(make_user):
    return make_user(Role.SERVICE_MANAGER, username="svcmgr1")


@pytest.fixture
def engineer(make_user):
    return make_user(Role.SERVICE_ENGINEER, username="eng1")


@pytest.fixture
def portal_user(make_user):
    return make_user(Role.CUSTOMER_CONTACT, username="customer1")
