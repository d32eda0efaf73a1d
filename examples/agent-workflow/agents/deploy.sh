#!/bin/sh
# The devops agent: runs only when the coverage gate did not block it.
set -eu
mkdir -p deployed
cp artifacts/test-results.json deployed/
echo "deploy: done"
