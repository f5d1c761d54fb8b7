#!/bin/sh
# Scores the pipeline policies against zizmor's audit snapshots; see
# tests/peer/zizmor.py (usage: tests/peer/zizmor.sh [--tier T1|T2] [-r AUDIT] [-v]
# [--loose] [--check]). MLGATE_BIN: the binary (default build/mlgate).
exec python3 "$(dirname "$0")/zizmor.py" "$@"
