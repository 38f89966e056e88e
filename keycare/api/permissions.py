"""The API's permission class: the same scope rules as the UI, through `user.has_perm`."""

from rest_framework import permissions

from keycare.core.scoping import user_can, user_can_any

_METHOD_ACTIONS = {
    "GET": "view",
    "HEAD": "view",
    "OPTIONS": "view",
    "POST": "add",
    "PUT": "change",
    "PATCH": "change",
    "DELETE": "delete",
}


class ScopedPermission(permissions.BasePermission):
    """Model-level: may the user do this kind of thing at all? Object-level: on this row?

    Viewsets set `scoped_model`; object lookups already go through the scoped selector, so
    an invisible row is a 404, and a visible row the user may not change is a 403.
    """

    def _action(self, request, view) -> str:
        return getattr(view, "scoped_action_map", {}).get(
            getattr(view, "action", None), _METHOD_ACTIONS.get(request.method, "view")
        )

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        model = getattr(view, "scoped_model", None)
        if model is None:
            return True
        action = self._action(request, view)
        # Object actions are decided per row in has_object_permission.
        if action in ("change", "delete") or getattr(view, "detail", False):
            return user_can_any(request.user, "view", model)
        return user_can_any(request.user, action, model)

    def has_object_permission(self, request, view, obj) -> bool:
        action = self._action(request, view)
        if action == "view":
            return True  # the object was looked up in the user's scoped queryset
        return user_can(request.user, action, obj)
