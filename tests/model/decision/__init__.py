"""tests/model/decision: the grader, the FAST exam, confidence, tiers and the rules of a reply."""
