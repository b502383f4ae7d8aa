"""The clinical decision: the grader (one photo), the FAST exam (three photos), the tiers."""
