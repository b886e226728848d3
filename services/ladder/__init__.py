"""The escalation ladder (督办): the deadline sweep that records lapses, the cases
people move, and the steps the ladder takes by itself."""
