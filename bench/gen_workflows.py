#!/usr/bin/env python3
"""Writes N realistic GitHub Actions workflows (ML training, evaluation and
release pipelines with a mix of good and bad practice) under
DIR/.github/workflows/ for the pipeline-gate benchmark. Deterministic."""
import os
import random
import sys

TRIGGERS = ["push", "pull_request", "pull_request_target", "workflow_dispatch", "release",
            "schedule", "issue_comment", "workflow_run"]
ACTIONS = ["actions/checkout@v4", "actions/setup-python@v5",
           "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683",
           "actions/cache@v4", "actions/upload-artifact@v4", "docker/login-action@v3",
           "pypa/gh-action-pypi-publish@release/v1", "aws-actions/configure-aws-credentials@v4",
           "huggingface/hub-action@main", "./.github/actions/setup"]
RUNS = [
    "python -m pip install --require-hashes -r requirements.lock",
    "python train.py --config configs/base.yaml --epochs 3",
    "python evaluate.py --checkpoint out/model.safetensors --report out/eval.json",
    "pytest -q tests/ --maxfail=1",
    "ruff check . && mypy src/",
    "dvc pull data/train.dvc && dvc repro",
    'echo "run id: $GITHUB_RUN_ID" >> "$GITHUB_STEP_SUMMARY"',
    "sha256sum -c checksums.txt",
    "pip install -r requirements.txt",
    "pip install torch==2.3.1 transformers --extra-index-url https://download.pytorch.org/whl/cu121",
    "python train.py --epochs 3 --lr ${{ inputs.lr }}",
    'echo "Title: ${{ github.event.pull_request.title }}"',
    'echo "MODEL=${{ steps.meta.outputs.model }}" >> "$GITHUB_ENV"',
    "curl -sSL https://get.example.com/install.sh | bash",
    "huggingface-cli download meta-llama/Llama-3.1-8B --local-dir models/",
    "pytest -q tests/",
    "twine upload dist/* -u __token__ -p ${{ secrets.PYPI_TOKEN }}",
    "docker build -t ghcr.io/org/model:${{ github.sha }} . && docker push ghcr.io/org/model:${{ github.sha }}",
]


def workflow(rng, i):
    trig = rng.sample(TRIGGERS, rng.randint(1, 3))
    out = ["name: pipeline %d" % i, "on:"]
    for t in trig:
        if t == "schedule":
            out += ["  schedule:", "    - cron: '0 3 * * *'"]
        elif t == "workflow_dispatch":
            out += ["  workflow_dispatch:", "    inputs:", "      lr:", "        type: string",
                    "        default: '0.001'"]
        else:
            out.append("  %s:" % t)
    if rng.random() < 0.5:
        out += ["permissions:", "  contents: read"]
    out.append("env:")
    out.append("  PYTHONUNBUFFERED: '1'")
    out.append("jobs:")
    for j in range(rng.randint(1, 3)):
        out += ["  job%d:" % j, "    runs-on: %s" % rng.choice(["ubuntu-latest", "[self-hosted, gpu]"])]
        if rng.random() < 0.3:
            out += ["    container: pytorch/pytorch:%s" % rng.choice(["latest", "2.3.1-cuda12.1-cudnn8-runtime"])]
        if rng.random() < 0.3:
            out += ["    if: ${{ github.actor != 'dependabot[bot]' }}"]
        out.append("    steps:")
        for s in range(rng.randint(2, 7)):
            if rng.random() < 0.45:
                out += ["      - uses: %s" % rng.choice(ACTIONS)]
                if rng.random() < 0.3:
                    out += ["        with:", "          python-version: '3.11'", "          cache: pip"]
            else:
                out += ["      - name: step %d" % s, "        run: |"]
                for _ in range(rng.randint(1, 4)):
                    out.append("          " + rng.choice(RUNS))
                if rng.random() < 0.3:
                    out += ["        env:", "          HF_TOKEN: ${{ secrets.HF_TOKEN }}"]
    return "\n".join(out) + "\n"


def main():
    if len(sys.argv) != 3:
        print("usage: gen_workflows.py DIR N", file=sys.stderr)
        return 2
    d = os.path.join(sys.argv[1], ".github", "workflows")
    os.makedirs(d, exist_ok=True)
    rng = random.Random(42)
    for i in range(int(sys.argv[2])):
        with open(os.path.join(d, "w%04d.yml" % i), "w", encoding="utf-8") as f:
            f.write(workflow(rng, i))
    return 0


if __name__ == "__main__":
    sys.exit(main())
