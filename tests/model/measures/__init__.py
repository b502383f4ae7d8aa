"""tests/model/measures: the facial measures and the expression scores."""
