#!/usr/bin/env bash
# Set up everything and build the web book: system tools (Debian/Ubuntu), a virtual environment
# in .venv with requirements.txt, then the book into _build/html. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")"

# Headless Chromium drives the browser tests; bubblewrap sandboxes the grader's kernels.
missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v bwrap >/dev/null || missing+=(bubblewrap)
if ((${#missing[@]})); then
    if command -v apt-get >/dev/null; then
        sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
        $sudo apt-get update -qq
        $sudo apt-get install -y -qq "${missing[@]}"
    else
        echo "warning: install ${missing[*]} for the browser and grading tests" >&2
    fi
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install --quiet --upgrade pip
.venv/bin/pip install --quiet -r requirements.txt
.venv/bin/jupyter-book build --all -W --keep-going .
echo "The web book is at $(pwd)/_build/html/index.html"
