"""Delivery channels (SMTP, webhook, file drop): how a queued message leaves."""
