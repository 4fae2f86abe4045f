"""Stage 5, using a model: scores, explanations, hints of missing documentation, request I/O."""
