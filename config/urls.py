from django.contrib import admin
from django.urls import include, path

from keycare.web.views import auth

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("keycare.api.urls", namespace="api")),
    path("i18n/setlang/", auth.set_language, name="set_language"),
    path("", include("keycare.web.urls", namespace="web")),
]
