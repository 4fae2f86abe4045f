"""The training procedure: rows checked, split by letter, fitted with the prior-weight search,
measured by the outer CV, compared with baselines, described by a card and saved."""
