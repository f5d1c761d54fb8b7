"""Train the support-ticket classifier and export its weights as safetensors."""
import argparse
import os
import pickle

import torch
from safetensors.torch import save_file

from config import load_config
from model import TicketClassifier

CACHE = "cache/features.pkl"


def load_cached_features():
    # Features computed by the previous run of this job.
    if os.path.exists(CACHE):
        with open(CACHE, "rb") as f:
            return pickle.load(f)
    return None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", default="configs/train.yaml")
    args = parser.parse_args()

    cfg = load_config(args.config)
    model = TicketClassifier(cfg["vocab_size"], cfg["num_labels"])
    if cfg.get("resume_from"):
        state = torch.load(cfg["resume_from"], map_location="cpu")
        model.load_state_dict(state)
    if cfg.get("teacher"):
        teacher = torch.load(cfg["teacher"], map_location="cpu", weights_only=True)
        model.distill_from(teacher)

    features = load_cached_features()
    model.fit(features, epochs=cfg["epochs"])
    save_file(model.state_dict(), "models/encoder.safetensors")


if __name__ == "__main__":
    main()
