"""Imports are an administrator's job (DOMAIN: 系统管理员 … imports)."""

from django.db.models import Q

from keycare.core.scoping import register_model_perms, scope_rule
from keycare.users.choices import Role

from .models import ImportJob


@scope_rule(ImportJob)
def import_job_scope(user, action: str) -> Q | bool:
    return user.has_role(Role.ADMINISTRATOR)


register_model_perms(ImportJob)
