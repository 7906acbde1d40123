"""Thought 1: ReLU manifold collapse, linear bottlenecks and residual depth (research notes part A)."""
