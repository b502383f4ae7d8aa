"""The screening core: face analysis, measures, classifier, decision, CLI."""
