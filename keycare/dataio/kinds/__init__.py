"""The importable kinds of data. Each kind declares its columns (English and Chinese
headers), its natural key, and how a batch of rows becomes creates and updates."""

from .accounts import AccountsKind
from .base import BatchResult, Kind, RowError
from .catalogue import ProductsKind
from .contacts import ContactsKind
from .equipment import EquipmentKind
from .orders import OrdersKind

KINDS: dict[str, type[Kind]] = {
    "accounts": AccountsKind,
    "contacts": ContactsKind,
    "products": ProductsKind,
    "equipment": EquipmentKind,
    "orders": OrdersKind,
}

__all__ = ["KINDS", "BatchResult", "Kind", "RowError"]
