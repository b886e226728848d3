"""The state machines: how a chart is defined (table.py) and each chart."""
