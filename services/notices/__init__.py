"""Notices (公文): numbered, rendered and queued in the caller's unit of work; the
outbox that the delivery flow drains."""
