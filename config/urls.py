from django.contrib import admin
from django.urls import include, path
from django.views.i18n import set_language

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("keycare.api.urls", namespace="api")),
    path("i18n/setlang/", set_language, name="set_language"),
    path("", include("keycare.web.urls", namespace="web")),
]
