DROP TABLE live_sessions;

ALTER TABLE users
	DROP COLUMN max_sessions,
	DROP COLUMN speed_limit_mbps,
	DROP COLUMN traffic_limit_gb;

ALTER TABLE plans
	DROP COLUMN speed_limit_mbps,
	DROP COLUMN max_sessions;
