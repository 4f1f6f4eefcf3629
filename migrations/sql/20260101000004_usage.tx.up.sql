CREATE TABLE sessions (
	id uuid PRIMARY KEY,
	user_id bigint REFERENCES users (id) ON DELETE SET NULL,
	device_id bigint REFERENCES devices (id) ON DELETE SET NULL,
	device_uuid text NOT NULL,
	gateway_node_name text NOT NULL,
	gateway_node_id bigint REFERENCES gateway_nodes (id) ON DELETE SET NULL,
	outline_node_id bigint REFERENCES outline_nodes (id) ON DELETE SET NULL,
	region text NOT NULL DEFAULT '',
	started_at timestamptz NOT NULL DEFAULT now(),
	ended_at timestamptz,
	bytes_up bigint NOT NULL DEFAULT 0,
	bytes_down bigint NOT NULL DEFAULT 0,
	last_seq bigint NOT NULL DEFAULT 0,
	end_reason text,
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT sessions_device_uuid_check CHECK (device_uuid <> ''),
	CONSTRAINT sessions_gateway_node_name_check CHECK (gateway_node_name <> ''),
	CONSTRAINT sessions_bytes_up_check CHECK (bytes_up >= 0),
	CONSTRAINT sessions_bytes_down_check CHECK (bytes_down >= 0),
	CONSTRAINT sessions_last_seq_check CHECK (last_seq >= 0)
) WITH (fillfactor = 80);

CREATE INDEX sessions_open_gateway_node_name_idx ON sessions (gateway_node_name) WHERE ended_at IS NULL;
CREATE INDEX sessions_user_id_started_at_idx ON sessions (user_id, started_at);
CREATE INDEX sessions_device_id_idx ON sessions (device_id);
CREATE INDEX sessions_outline_node_id_idx ON sessions (outline_node_id);

CREATE TABLE usage_periods (
	user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	period_start date NOT NULL,
	bytes_up bigint NOT NULL DEFAULT 0,
	bytes_down bigint NOT NULL DEFAULT 0,
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (user_id, period_start),
	CONSTRAINT usage_periods_period_start_check CHECK (EXTRACT(DAY FROM period_start) = 1),
	CONSTRAINT usage_periods_bytes_up_check CHECK (bytes_up >= 0),
	CONSTRAINT usage_periods_bytes_down_check CHECK (bytes_down >= 0)
) WITH (fillfactor = 80);

CREATE TABLE usage_limit_events (
	user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	period_start date NOT NULL,
	notified_at timestamptz NOT NULL DEFAULT now(),
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (user_id, period_start),
	CONSTRAINT usage_limit_events_period_start_check CHECK (EXTRACT(DAY FROM period_start) = 1)
);

CREATE TRIGGER sessions_set_updated_at BEFORE UPDATE ON sessions
	FOR EACH ROW EXECUTE FUNCTION httvps_set_updated_at();
CREATE TRIGGER usage_periods_set_updated_at BEFORE UPDATE ON usage_periods
	FOR EACH ROW EXECUTE FUNCTION httvps_set_updated_at();
CREATE TRIGGER usage_limit_events_set_updated_at BEFORE UPDATE ON usage_limit_events
	FOR EACH ROW EXECUTE FUNCTION httvps_set_updated_at();
