"""Domain knowledge as data (TOML). Shipped inside the wheel as `imr_ml.domain`."""
