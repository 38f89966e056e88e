"""API for the acting user and for tokens."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
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


class TokenObtainApi(ObtainAuthToken):
    """Exchange a username and password for an API token (send as `Authorization: Token …`).

    Failed attempts count towards the same lock-out as the login page."""
