#!/bin/sh
# The architecture agent: the system design every other agent reads.
set -eu
mkdir -p artifacts
cat > artifacts/system-design.yml <<'YAML'
system: {name: waste-management}
services: [api-gateway, core, billing]
data_stores: [postgres, redis]
integrations: [stripe, twilio]
YAML
echo "design: 3 services"
