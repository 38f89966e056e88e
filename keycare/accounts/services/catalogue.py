from typing import Any

from django.db import transaction

from keycare.core.services import apply_changes, require_permission
from keycare.users.models import User

from ..models import Product, ProductLine

PRODUCT_EDITABLE_FIELDS = {
    "code",
    "name",
    "product_line",
    "category",
    "unit",
    "list_price",
    "standard_cost",
    "warranty_months",
    "is_active",
}


@transaction.atomic
def product_line_get_or_create(*, actor: User | None, code: str, name: str = "") -> ProductLine:
    if actor is not None:
        require_permission(actor=actor, action="add", model=ProductLine)
    line = ProductLine.objects.filter(code=code).first()
    if line:
        return line
    line = ProductLine(code=code, name=name or code)
    line.full_clean()
    line.save()
    return line


@transaction.atomic
def product_create(*, actor: User | None, **fields: Any) -> Product:
    if actor is not None:
        require_permission(actor=actor, action="add", model=Product)
    product = Product(**fields)
    product.full_clean()
    product.save()
    return product


@transaction.atomic
def product_update(*, actor: User | None, product: Product, data: dict[str, Any]) -> Product:
    product = Product.objects.select_for_update().get(pk=product.pk)
    if actor is not None:
        require_permission(actor=actor, action="change", obj=product)
    if apply_changes(instance=product, data=data, allowed=PRODUCT_EDITABLE_FIELDS):
        product.full_clean()
        product.save()
    return product
