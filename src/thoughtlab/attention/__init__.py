"""Thought 2, attention as weighting: pooling modules, squeeze-and-excitation, data generators.

The study is :mod:`thoughtlab.attention.study` (id ``attention-noise``).
"""

from thoughtlab.attention.pooling import (
    ATTENTION_POOLINGS,
    POOLINGS,
    AdditiveAttentionPool,
    DotProductAttentionPool,
    GatedAttentionPool,
    MaxPool,
    MeanPool,
    MultiHeadAttentionPool,
    make_pooling,
)
from thoughtlab.attention.se import SqueezeExcitation

__all__ = [
    "ATTENTION_POOLINGS",
    "POOLINGS",
    "AdditiveAttentionPool",
    "DotProductAttentionPool",
    "GatedAttentionPool",
    "MaxPool",
    "MeanPool",
    "MultiHeadAttentionPool",
    "SqueezeExcitation",
    "make_pooling",
]
