from .account import Account, AccountTeamMember, Tag
from .catalogue import Product, ProductLine
from .contact import Contact, ContactAccount, ImportantDate, PersonalDataAccess, PersonalDetails
from .equipment import Equipment
from .orders import Order, OrderLine

__all__ = [
    "Account",
    "AccountTeamMember",
    "Contact",
    "ContactAccount",
    "Equipment",
    "ImportantDate",
    "Order",
    "OrderLine",
    "PersonalDataAccess",
    "PersonalDetails",
    "Product",
    "ProductLine",
    "Tag",
]
