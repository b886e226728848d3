"""What reports count and owe: the figures (the one counting) and the reporting duties
(报送) a plan makes."""
