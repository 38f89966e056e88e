from django.urls import path

from .views import accounts, auth, dashboard

app_name = "web"

urlpatterns = [
    path("", dashboard.DashboardView.as_view(), name="dashboard"),
    path("login/", auth.LoginView.as_view(), name="login"),
    path("logout/", auth.LogoutView.as_view(), name="logout"),
    path("password/", auth.PasswordChangeView.as_view(), name="password_change"),
    path("password/done/", auth.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("accounts/", accounts.AccountListView.as_view(), name="account_list"),
    path("accounts/<int:pk>/", accounts.AccountDetailView.as_view(), name="account_detail"),
]
