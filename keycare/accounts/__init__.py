"""Accounts (客户): the customer companies, their hierarchy (groups, branches, plants), the
account team, and contacts. Later issues extend it with key-person details, products,
equipment and orders."""
