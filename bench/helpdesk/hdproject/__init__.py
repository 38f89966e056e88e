"""Minimal Django project that serves django-helpdesk for KeyCare's side-by-side benchmark."""
