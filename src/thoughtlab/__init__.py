"""thoughtlab: research notes on deep learning, made real and measurable."""

__version__ = "0.1.0"
