"""Training: configuration, the event-yielding runner, evaluation and device choice."""
