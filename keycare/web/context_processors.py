from .navigation import nav_for


def navigation(request):
    user = getattr(request, "user", None)
    match = getattr(request, "resolver_match", None)
    return {
        "nav_items": nav_for(user),
        "nav_active": getattr(match, "url_name", "") if match else "",
    }
