-- node-registry: an ended session keeps its row with ended_at set (a tombstone), so a started
-- event that arrives after its ended event cannot count it as active again. The registry
-- purges tombstones after HTTVPS_REGISTRY_TOMBSTONE_TTL.
ALTER TABLE outline_node_sessions ADD COLUMN ended_at timestamptz;

CREATE INDEX outline_node_sessions_active_idx ON outline_node_sessions (outline_node_id) WHERE ended_at IS NULL;
CREATE INDEX outline_node_sessions_ended_at_idx ON outline_node_sessions (ended_at) WHERE ended_at IS NOT NULL;
