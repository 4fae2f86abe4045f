"""Domain knowledge as data: loaders of the TOML files in the top-level `features/` folder
(shipped as `imr_ml.domain`) and the guideline rules."""
