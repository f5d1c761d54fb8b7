pip install -r requirements.txt && npm ci
