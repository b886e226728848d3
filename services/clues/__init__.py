"""Problems and clues (问题线索): their lifecycle, the clue chart as stored (with the
SQL form of "overdue"), CSV import, typical cases."""
