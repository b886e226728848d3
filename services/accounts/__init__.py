"""Accounts: the plan's people signing in to the web (docs/architecture.md decision 15).

An account is a row of `users` (a person of one campaign's plan) with its
credential; every secret handed out (a one-time link, a session id, a
personal access token) is stored as its digest only. The web's HTTP side of
signing in is app/web/auth.py; together they are the one layer a province's
single sign-on could replace.
"""
