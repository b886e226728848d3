"""What waits for a person, and the items as a person may read them (the web's pages)."""
