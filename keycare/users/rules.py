"""Permissions of the users app, loaded by rules' autodiscovery."""

import rules

from .predicates import is_administrator, is_staff_member

rules.set_perm("users.manage_users", is_administrator)
rules.set_perm("users.use_staff_area", is_staff_member)
rules.set_perm("users.use_admin_site", is_administrator)
