-- node-registry: what the Outline agent measures (reason, live load, probe time) and the
-- passive health from gateways: each gateway's consecutive failed connects to each node, and
-- the mark set on a node when they cross HTTVPS_REGISTRY_DIAL_FAILURES.
ALTER TABLE outline_nodes
	ADD COLUMN health_reason text NOT NULL DEFAULT '',
	ADD COLUMN active_connections integer NOT NULL DEFAULT 0,
	ADD COLUMN bytes_per_sec double precision NOT NULL DEFAULT 0,
	ADD COLUMN probe_ms double precision,
	ADD COLUMN dial_failed_at timestamptz,
	ADD COLUMN dial_error text NOT NULL DEFAULT '',
	ADD CONSTRAINT outline_nodes_active_connections_check CHECK (active_connections >= 0),
	ADD CONSTRAINT outline_nodes_bytes_per_sec_check CHECK (bytes_per_sec >= 0);

CREATE TABLE outline_node_dials (
	outline_node_id bigint NOT NULL REFERENCES outline_nodes (id) ON DELETE CASCADE,
	gateway_node_name text NOT NULL,
	failures integer NOT NULL DEFAULT 0,
	last_failure_at timestamptz,
	last_success_at timestamptz,
	last_error text NOT NULL DEFAULT '',
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (outline_node_id, gateway_node_name),
	CONSTRAINT outline_node_dials_failures_check CHECK (failures >= 0)
);

CREATE TRIGGER outline_node_dials_set_updated_at BEFORE UPDATE ON outline_node_dials
	FOR EACH ROW EXECUTE FUNCTION httvps_set_updated_at();
