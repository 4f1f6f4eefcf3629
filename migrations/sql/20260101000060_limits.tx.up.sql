-- Limits (issue 11): per-plan max_sessions and speed_limit_mbps, per-user overrides (null = the
-- plan's value), and live_sessions, the usage-aggregator's live-session slots and traffic leases.
ALTER TABLE plans
	ADD COLUMN max_sessions integer,
	ADD COLUMN speed_limit_mbps integer,
	ADD CONSTRAINT plans_max_sessions_check CHECK (max_sessions > 0),
	ADD CONSTRAINT plans_speed_limit_mbps_check CHECK (speed_limit_mbps > 0);

ALTER TABLE users
	ADD COLUMN traffic_limit_gb numeric,
	ADD COLUMN speed_limit_mbps integer,
	ADD COLUMN max_sessions integer,
	ADD CONSTRAINT users_traffic_limit_gb_check CHECK (traffic_limit_gb > 0),
	ADD CONSTRAINT users_speed_limit_mbps_check CHECK (speed_limit_mbps > 0),
	ADD CONSTRAINT users_max_sessions_check CHECK (max_sessions > 0);

-- A row is a slot while closed_at is null and expires_at is ahead; its lease (granted bytes, up
-- plus down) counts against the user's quota until expires_at, also for a while after the close.
CREATE TABLE live_sessions (
	session_id uuid PRIMARY KEY,
	user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	device_uuid text NOT NULL,
	gateway_node_name text NOT NULL,
	granted bigint NOT NULL DEFAULT 0,
	used bigint NOT NULL DEFAULT 0,
	closed_at timestamptz,
	expires_at timestamptz NOT NULL,
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT live_sessions_device_uuid_check CHECK (device_uuid <> ''),
	CONSTRAINT live_sessions_gateway_node_name_check CHECK (gateway_node_name <> ''),
	CONSTRAINT live_sessions_granted_check CHECK (granted >= 0),
	CONSTRAINT live_sessions_used_check CHECK (used >= 0)
) WITH (fillfactor = 80);

CREATE INDEX live_sessions_user_id_idx ON live_sessions (user_id);
CREATE UNIQUE INDEX live_sessions_open_device_uuid_idx ON live_sessions (device_uuid) WHERE closed_at IS NULL;
CREATE INDEX live_sessions_expires_at_idx ON live_sessions (expires_at);

CREATE TRIGGER live_sessions_set_updated_at BEFORE UPDATE ON live_sessions
	FOR EACH ROW EXECUTE FUNCTION httvps_set_updated_at();
