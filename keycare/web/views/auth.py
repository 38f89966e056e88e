from django.contrib.auth import views as auth_views
from django.urls import reverse_lazy


class LoginView(auth_views.LoginView):
    template_name = "web/auth/login.html"
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    pass


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "web/auth/password_change.html"
    success_url = reverse_lazy("web:password_change_done")


class PasswordChangeDoneView(auth_views.PasswordChangeDoneView):
    template_name = "web/auth/password_change_done.html"


def set_language(request):
    """Django's language switch, and for a signed-in user also their preferred language (what
    reminder emails and the calendar feed use)."""
    from django.utils.translation import check_for_language
    from django.views.i18n import set_language as django_set_language

    from keycare.users.services import user_language_set

    response = django_set_language(request)
    language = request.POST.get("language", "") if request.method == "POST" else ""
    if request.user.is_authenticated and language and check_for_language(language):
        user_language_set(user=request.user, language=language)
    return response
