"""A look-back round as written, its reproducible sample, its teams' assignment."""
