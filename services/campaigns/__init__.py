"""Campaigns: plan files, loading them, participating units and their stages, the
scheduler's claimed fire times."""
