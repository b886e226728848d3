"""Time: the one clock type, and the working-day calendar that deadlines are counted on."""
