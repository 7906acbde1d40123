"""Thought 1: ReLU collapses low-dimensional manifolds; linear bottlenecks and skip connections keep information."""

THOUGHT = "1. ReLU collapse and residual learning"
