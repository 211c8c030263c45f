"""Output formats: each a pure function of a result value (a Report, a decision, ...)."""
