"""Evidence files (可验证成果): uploads checked by content, stored by SHA-256, recorded in
the audit chain (files.py, kinds.py, names.py, store.py, integrity.py)."""
