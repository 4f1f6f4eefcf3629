-- usage-aggregator: the latest boot of every gateway id. A newer boot ends the sessions an older
-- boot left open (reason gateway_restarted); an older or repeated announcement changes nothing.
CREATE TABLE gateway_boots (
	gateway_name text PRIMARY KEY,
	boot_id text NOT NULL,
	booted_at timestamptz NOT NULL,
	updated_at timestamptz NOT NULL DEFAULT now()
);
