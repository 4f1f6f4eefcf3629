-- Usage resets (issue 11): an admin reset zeroes the user's current month in usage_periods; the
-- bytes it held stay on record here, so no accounted byte is lost.
CREATE TABLE usage_resets (
	id bigserial PRIMARY KEY,
	user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	period_start date NOT NULL,
	bytes_up bigint NOT NULL,
	bytes_down bigint NOT NULL,
	reason text NOT NULL,
	reset_at timestamptz NOT NULL DEFAULT now(),
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT usage_resets_period_start_check CHECK (EXTRACT(DAY FROM period_start) = 1),
	CONSTRAINT usage_resets_bytes_up_check CHECK (bytes_up >= 0),
	CONSTRAINT usage_resets_bytes_down_check CHECK (bytes_down >= 0),
	CONSTRAINT usage_resets_reason_check CHECK (reason <> '')
);

CREATE INDEX usage_resets_user_id_period_start_idx ON usage_resets (user_id, period_start);

CREATE TRIGGER usage_resets_set_updated_at BEFORE UPDATE ON usage_resets
	FOR EACH ROW EXECUTE FUNCTION httvps_set_updated_at();
