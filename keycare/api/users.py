"""API for the acting user and for tokens."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.response import Response
from rest_framework.views import APIView

from keycare.users.models import User


class MeSerializer(serializers.ModelSerializer):
    roles = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ["id", "username", "display_name", "email", "language", "roles"]

    def get_roles(self, obj: User) -> list[str]:
        return sorted(obj.roles)


class MeApi(APIView):
    """The acting user and their roles."""

    @extend_schema(responses=MeSerializer)
    def get(self, request):
        return Response(MeSerializer(request.user).data)


class LockedOut(exceptions.Throttled):
    default_detail = _(
        "Too many failed login attempts. This login is locked for a while; try again later."
    )
    default_code = "locked_out"


class TokenObtainApi(ObtainAuthToken):
    """Exchange a username and password for an API token (send as `Authorization: Token …`).

    Failed attempts count towards the same lock-out as the login page (django-axes)."""

    def post(self, request, *args, **kwargs):
        try:
            return super().post(request, *args, **kwargs)
        except exceptions.ValidationError:
            if getattr(request, "axes_locked_out", False):
                raise LockedOut() from None
            raise
