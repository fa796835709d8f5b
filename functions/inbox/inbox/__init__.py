"""The inbox e-service: messages from external systems to residents."""
