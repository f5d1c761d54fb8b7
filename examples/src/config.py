"""Training configuration: YAML read with the safe loader."""
import yaml


def load_config(path):
    # yaml.load(f) would build arbitrary objects; safe_load builds plain data.
    with open(path) as f:
        return yaml.safe_load(f)
