#!/bin/sh
# The security agent: requirements derived from the design.
set -eu
grep -q services artifacts/system-design.yml
sleep "${AGENT_DELAY:-0}"
cat > artifacts/security-requirements.yml <<'YAML'
authentication: {method: jwt}
authorization: {model: rbac}
encryption: {at_rest: aes-256, in_transit: tls-1.3}
YAML
echo "security: jwt, rbac, tls"
