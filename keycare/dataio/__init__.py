"""Import and export of business data (accounts, contacts, products, equipment, orders) as
CSV or XLSX: streaming, all-or-nothing, idempotent on natural keys, with dry runs, row-level
error reports and background jobs with progress."""
