"""Synthetic data with exact ground truth: mixtures of Gaussians and triangles."""
