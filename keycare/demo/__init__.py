"""Demo data: deterministic, realistic zh_CN data generated through the domain services.
Later features add their own generators here."""
