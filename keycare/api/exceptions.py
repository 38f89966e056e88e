"""The one API error format: {"message": str, "extra": {...}}; field errors in extra.fields."""

from django.core.exceptions import ObjectDoesNotExist
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from keycare.core.exceptions import ApplicationError, ConflictError, PermissionDeniedError


def _flatten(detail):
    if isinstance(detail, dict):
        return {k: _flatten(v) for k, v in detail.items()}
    if isinstance(detail, list):
        return [
            str(item) if not isinstance(item, (dict, list)) else _flatten(item) for item in detail
        ]
    return str(detail)


def _django_validation_to_drf(exc: DjangoValidationError) -> exceptions.ValidationError:
    if hasattr(exc, "error_dict"):
        return exceptions.ValidationError(exc.message_dict)
    return exceptions.ValidationError({"non_field_errors": exc.messages})


def exception_handler(exc, context):
    if isinstance(exc, ConflictError):
        return Response(
            {"message": exc.message, "extra": exc.extra}, status=status.HTTP_409_CONFLICT
        )
    if isinstance(exc, PermissionDeniedError):
        return Response(
            {"message": exc.message, "extra": exc.extra}, status=status.HTTP_403_FORBIDDEN
        )
    if isinstance(exc, ApplicationError):
        return Response(
            {"message": exc.message, "extra": exc.extra}, status=status.HTTP_400_BAD_REQUEST
        )
    if isinstance(exc, DjangoValidationError):
        exc = _django_validation_to_drf(exc)
    elif isinstance(exc, (Http404, ObjectDoesNotExist)):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        detail = _flatten(exc.detail)
        if isinstance(detail, list):
            detail = {"non_field_errors": detail}
        response.data = {
            "message": _("The request is not valid. See the field errors."),
            "extra": {"code": "invalid", "fields": detail},
        }
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        code = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
        response.data = {
            "message": str(detail)
            if not isinstance(detail, (dict, list))
            else _("Request failed."),
            "extra": {"code": code if isinstance(code, str) else "error"},
        }
    return response
