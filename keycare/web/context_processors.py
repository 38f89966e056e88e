from keycare.users.choices import STAFF_ROLES

from .navigation import nav_for


def navigation(request):
    user = getattr(request, "user", None)
    match = getattr(request, "resolver_match", None)
    url_name = (getattr(match, "url_name", "") or "") if match else ""
    items = nav_for(user)
    return {
        "nav_items": items,
        "nav_active": next((item.key for item in items if item.is_active(url_name)), ""),
        # the bell of the top bar, for staff; its count is fetched after the page loads
        "reminders_badge": bool(items) and user.has_role(*STAFF_ROLES),
    }
