"""考核排名: the counts of each unit in a period, read from the ledger in one statement
(counts.py), scored and ordered by the pure rules (statemachine/ranking.py), and the
table a person may read (table.py)."""
