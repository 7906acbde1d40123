"""Generative model families shared by the studies of thought 5 (GANs, flows, autoregressive models)."""
