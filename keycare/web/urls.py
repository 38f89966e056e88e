from django.urls import path

from .views import accounts, auth, dashboard, dataio, insights, ratings, service, surveys, teams

app_name = "web"

urlpatterns = [
    path("", dashboard.DashboardView.as_view(), name="dashboard"),
    path("login/", auth.LoginView.as_view(), name="login"),
    path("logout/", auth.LogoutView.as_view(), name="logout"),
    path("password/", auth.PasswordChangeView.as_view(), name="password_change"),
    path("password/done/", auth.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("accounts/", accounts.AccountListView.as_view(), name="account_list"),
    path("accounts/new/", accounts.AccountFormView.as_view(), name="account_create"),
    path("accounts/<int:pk>/", accounts.AccountDetailView.as_view(), name="account_detail"),
    path("accounts/<int:pk>/edit/", accounts.AccountFormView.as_view(), name="account_edit"),
    path(
        "accounts/<int:pk>/nps/send/",
        surveys.AccountNpsSendView.as_view(),
        name="account_nps_send",
    ),
    path(
        "accounts/<int:account_pk>/contacts/new/",
        accounts.ContactFormView.as_view(),
        name="contact_create",
    ),
    path("contacts/", accounts.ContactListView.as_view(), name="contact_list"),
    path("contacts/<int:pk>/", accounts.ContactDetailView.as_view(), name="contact_detail"),
    path("contacts/<int:pk>/edit/", accounts.ContactFormView.as_view(), name="contact_edit"),
    path(
        "contacts/<int:pk>/memberships/",
        accounts.ContactMembershipView.as_view(),
        name="contact_membership",
    ),
    path(
        "contacts/<int:pk>/personal/",
        accounts.PersonalDetailsFormView.as_view(),
        name="contact_personal",
    ),
    path("equipment/", accounts.EquipmentListView.as_view(), name="equipment_list"),
    path("orders/", accounts.OrderListView.as_view(), name="order_list"),
    path("orders/<int:pk>/", accounts.OrderDetailView.as_view(), name="order_detail"),
    path("products/", accounts.ProductListView.as_view(), name="product_list"),
    path("service/", service.TicketListView.as_view(), name="ticket_list"),
    path("service/dashboard/", service.ServiceDashboardView.as_view(), name="ticket_dashboard"),
    path("service/new/", service.TicketCreateView.as_view(), name="ticket_create"),
    path("service/<int:pk>/", service.TicketDetailView.as_view(), name="ticket_detail"),
    path(
        "service/attachments/<int:pk>/",
        service.AttachmentDownloadView.as_view(),
        name="attachment_download",
    ),
    path("service/teams/", teams.TeamListView.as_view(), name="team_list"),
    path("service/teams/new/", teams.TeamFormView.as_view(), name="team_create"),
    path("service/teams/<int:pk>/edit/", teams.TeamFormView.as_view(), name="team_edit"),
    path("service/teams/<int:pk>/members/", teams.TeamMemberView.as_view(), name="team_members"),
    path("insights/", insights.ParetoView.as_view(), name="insights_pareto"),
    path("insights/pyramid/", insights.PyramidView.as_view(), name="insights_pyramid"),
    path("insights/neglected/", insights.NeglectedView.as_view(), name="insights_neglected"),
    path(
        "insights/volume-profit/",
        insights.VolumeProfitView.as_view(),
        name="insights_volume_profit",
    ),
    path(
        "insights/concentration/",
        insights.ConcentrationView.as_view(),
        name="insights_concentration",
    ),
    path("rate/<str:token>/", ratings.RateView.as_view(), name="rate"),
    path("nps/<str:token>/", surveys.NpsAnswerView.as_view(), name="nps"),
    path("data/import/", dataio.ImportView.as_view(), name="import"),
    path("data/import/<int:pk>/", dataio.ImportJobView.as_view(), name="import_job"),
    path("data/export/<str:kind>.<str:fmt>", dataio.ExportView.as_view(), name="export"),
]
