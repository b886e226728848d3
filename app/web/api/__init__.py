"""The JSON API under /api/v1: one router per context, each a thin adapter over its services."""
