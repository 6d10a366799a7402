"""quant-opt's Python side: the GPT-2 model definition, data, training and export recipes."""
