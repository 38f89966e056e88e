import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ImproperlyConfigured

from keycare.core.scoping import restrict

pytestmark = pytest.mark.django_db


def test_a_model_without_a_scope_rule_is_an_error_not_visible(kam):
    with pytest.raises(ImproperlyConfigured, match="No scope rule registered for Group"):
        restrict(Group.objects.all(), kam, "view")
