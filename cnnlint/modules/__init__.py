"""Module resolution and loading: following the imports of linted files (a stage between the interpreter and the analysis)."""
