"""Ledgers (台账): the seeds' templates, written as .xlsx and read back."""
