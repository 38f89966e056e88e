"""The account 360 page leads to every engagement record of the account: plan an activity,
log the first need or pain, record a gift; and the activity form starts as a meeting."""

import pytest
from django.urls import reverse

from keycare.accounts.tests.factories import AccountFactory, ContactFactory

pytestmark = pytest.mark.django_db


def test_the_360_page_leads_to_the_first_pain_and_gift(client, kam):
    account = AccountFactory(owner=kam)
    ContactFactory(account=account, buying_role="decision_maker")
    client.force_login(kam)
    page = client.get(reverse("web:account_detail", args=[account.pk])).content.decode()
    pain_url = f"{reverse('web:pain_create')}?account={account.pk}"
    gift_url = f"{reverse('web:gift_create')}?account={account.pk}"
    assert f'href="{pain_url}"' in page and f'href="{gift_url}"' in page
    assert client.get(pain_url).status_code == 200
    assert client.get(gift_url).status_code == 200


def test_a_new_activity_is_a_meeting_unless_the_link_says_otherwise(client, kam):
    account = AccountFactory(owner=kam)
    client.force_login(kam)
    url = reverse("web:activity_create")
    form = client.get(url, {"account": account.pk}).context["form"]
    assert form["kind"].value() == "meeting"
    form = client.get(url, {"account": account.pk, "kind": "introduction"}).context["form"]
    assert form["kind"].value() == "introduction"
