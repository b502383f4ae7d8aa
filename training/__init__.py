"""Training: the synthetic palsy set (`synth`), the paper's CNN (`cnn`), the grader (`grader`)
and the FAST exam (`exam`), and what they share (`common`); `palsy-train` runs them."""
