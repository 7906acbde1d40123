"""Thought 5: open questions about GANs (Odena, 2019)."""

THOUGHT = "5. Open questions about GANs"
