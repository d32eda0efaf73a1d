#!/bin/sh
# The database agent: the schema, in parallel with the security agent.
set -eu
grep -q data_stores artifacts/system-design.yml
sleep "${AGENT_DELAY:-0}"
cat > artifacts/database-schema.sql <<'SQL'
CREATE TABLE customers (id UUID PRIMARY KEY, business_name TEXT NOT NULL);
CREATE TABLE bins (id UUID PRIMARY KEY, customer_id UUID REFERENCES customers(id));
CREATE TABLE routes (id UUID PRIMARY KEY, driver_id UUID, route_date DATE);
CREATE TABLE service_events (id UUID PRIMARY KEY, bin_id UUID REFERENCES bins(id));
SQL
echo "database: 4 tables"
