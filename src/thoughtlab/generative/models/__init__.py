"""Generative model families of thought 5: GANs, flows (RealNVP) and autoregressive models (MADE, PixelCNN)."""
