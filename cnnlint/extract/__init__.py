"""Extraction: import resolution, the model finder and the constant evaluator that builds each model."""
