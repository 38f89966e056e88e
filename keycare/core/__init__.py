"""Domain-free shared code: the base model, ApplicationError, the scoping layer,
the tick registry for periodic work, and test helpers."""
