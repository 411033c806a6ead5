"""Entity-resolution rules: normalisation, the match model, decisions, clustering and stable identity."""
