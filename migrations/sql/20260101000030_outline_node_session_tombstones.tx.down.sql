DELETE FROM outline_node_sessions WHERE ended_at IS NOT NULL;
DROP INDEX outline_node_sessions_ended_at_idx;
DROP INDEX outline_node_sessions_active_idx;
ALTER TABLE outline_node_sessions DROP COLUMN ended_at;
