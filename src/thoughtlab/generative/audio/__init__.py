"""Audio GANs on synthetic tones with exact pitch scores (WaveGAN / SpecGAN, Donahue et al. 2019)."""
