"""What supervisors read: the status, the figures counted in SQL, reporting duties
(报送), a generated report's contents and its files."""
