"""Graph generation judged with GraphRNN's MMDs (You et al. 2018) on two-community graphs."""
