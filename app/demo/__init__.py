"""`rectify demo`: a shipped campaign replayed through the real services and flows."""
