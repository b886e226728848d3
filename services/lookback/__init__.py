"""Look-back rounds and field inspections (回头看, 实地督察): planning, opening,
checks, closing, findings."""
