"""The shared kernel every context builds on: the unit of work, the one persisted
transition, authority in SQL, the audit chain, the directory (who is who), the
settings and the runtime (the composition root). It imports no context."""
