"""Blueprints of the staff-facing app and the public pages. Thin callers of services."""
