"""Thought 4: CSP, Center and Scale Prediction pedestrian detection (Liu et al., CVPR 2019)."""
