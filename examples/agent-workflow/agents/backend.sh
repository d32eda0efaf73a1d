#!/bin/sh
# The backend agent: API contracts from the schema and the security requirements.
set -eu
grep -q authentication artifacts/security-requirements.yml
grep -q customers artifacts/database-schema.sql
cat > artifacts/api-contracts.yml <<'YAML'
openapi: 3.0.3
info: {title: Waste Management API, version: 1.0.0}
paths:
  /customers:
    get:
      responses:
        '200': {description: the customers}
YAML
echo "backend: 1 path"
