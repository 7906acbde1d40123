"""Shared network building blocks (MobileNetV2 blocks, ResNets, small CNNs)."""
