"""Feature scaling fitted by the 2024 pipeline (to be replaced, see ML-412)."""
import joblib

SCALER = "models/legacy/scaler.joblib"


def load_scaler():
    return joblib.load(SCALER)
