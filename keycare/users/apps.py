from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class UsersConfig(AppConfig):
    name = "keycare.users"
    label = "users"
    verbose_name = _("Users and roles")

    def ready(self) -> None:
        from . import scopes  # noqa: F401  (registers scope rules)
