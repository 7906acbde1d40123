"""Text GANs on the SeqGAN synthetic oracle (Yu et al. 2017): an oracle LSTM, MLE and two adversarial remedies."""
