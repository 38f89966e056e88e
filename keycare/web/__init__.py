"""The HTML + HTMX interface: thin views over selectors and services, Tabler templates.
One view serves the full page or, for an HTMX request, just the fragment."""
