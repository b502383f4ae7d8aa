"""tests/training/grader: the grader's rows, fitting, evaluation and the CNN's weighing."""
