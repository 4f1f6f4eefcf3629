package migrations_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/uptrace/bun"
)

const (
	checkViolation      = "23514"
	uniqueViolation     = "23505"
	foreignKeyViolation = "23503"
	notNullViolation    = "23502"
)

// seed fills a fresh database; every first row gets id 1.
func seed(tb testing.TB, bdb bun.IDB) {
	tb.Helper()
	for _, q := range []string{
		"INSERT INTO users (identifier, identifier_kind) VALUES ('a@example.com', 'email')",
		"INSERT INTO plans (name, max_devices) VALUES ('basic', 3)",
		"INSERT INTO regions (code, name) VALUES ('eu-1', 'Europe 1')",
		`INSERT INTO outline_nodes (region_id, internal_ip, ss_port, ss_method, ss_password, max_sessions)
			VALUES (1, '10.0.0.1', 8388, 'chacha20-ietf-poly1305', 'pw', 100)`,
		"INSERT INTO gateway_nodes (name, region_id) VALUES ('gw-1', 1)",
		"INSERT INTO devices (user_id, device_uuid, platform) VALUES (1, 'dev-1', 'android')",
		"INSERT INTO subscriptions (user_id, plan_id, valid_until) VALUES (1, 1, now() + interval '30 days')",
		`INSERT INTO sessions (id, user_id, device_id, device_uuid, gateway_node_name, gateway_node_id, outline_node_id)
			VALUES ('00000000-0000-0000-0000-000000000001', 1, 1, 'dev-1', 'gw-1', 1, 1)`,
		"INSERT INTO outline_node_sessions (session_id, outline_node_id) VALUES ('00000000-0000-0000-0000-000000000001', 1)",
		"INSERT INTO usage_periods (user_id, period_start) VALUES (1, '2026-01-01')",
		"INSERT INTO usage_limit_events (user_id, period_start) VALUES (1, '2026-01-01')",
	} {
		exec(tb, bdb, q)
	}
}

func TestConstraints(t *testing.T) {
	t.Parallel()
	bdb := migratedDB(t)
	seed(t, bdb)
	node := func(ip string, port int, rest string) string {
		return "INSERT INTO outline_nodes (region_id, internal_ip, ss_port, ss_method, ss_password, max_sessions, health_status) VALUES (1, '" +
			ip + "', " + strconv.Itoa(port) + ", 'aes-256-gcm', 'pw', " + rest + ")"
	}
	device := func(uuid string) string {
		return "INSERT INTO devices (user_id, device_uuid) VALUES (1, " + uuid + ")"
	}
	tests := []struct {
		name       string
		query      string
		state      string
		constraint string
	}{
		{"user status banned", "INSERT INTO users (identifier, identifier_kind, status) VALUES ('b@example.com', 'email', 'banned')", "", ""},
		{"user status unknown", "INSERT INTO users (identifier, identifier_kind, status) VALUES ('c@example.com', 'email', 'deleted')", checkViolation, "users_status_check"},
		{"user kind unknown", "INSERT INTO users (identifier, identifier_kind) VALUES ('d@example.com', 'fax')", checkViolation, "users_identifier_kind_check"},
		{"user kind missing", "INSERT INTO users (identifier) VALUES ('e@example.com')", notNullViolation, ""},
		{"user identifier empty", "INSERT INTO users (identifier, identifier_kind) VALUES ('', 'phone')", checkViolation, "users_identifier_check"},
		{"user identifier duplicate", "INSERT INTO users (identifier, identifier_kind) VALUES ('a@example.com', 'email')", uniqueViolation, "users_identifier_key"},
		{"plan unlimited traffic", "INSERT INTO plans (name, max_devices, traffic_limit_gb, price, currency) VALUES ('free', 1, NULL, 0, 'EUR')", "", ""},
		{"plan zero devices", "INSERT INTO plans (name, max_devices) VALUES ('p0', 0)", checkViolation, "plans_max_devices_check"},
		{"plan zero traffic", "INSERT INTO plans (name, max_devices, traffic_limit_gb) VALUES ('p1', 1, 0)", checkViolation, "plans_traffic_limit_gb_check"},
		{"plan negative price", "INSERT INTO plans (name, max_devices, price) VALUES ('p2', 1, -1)", checkViolation, "plans_price_check"},
		{"plan lowercase currency", "INSERT INTO plans (name, max_devices, currency) VALUES ('p3', 1, 'usd')", checkViolation, "plans_currency_check"},
		{"plan name duplicate", "INSERT INTO plans (name, max_devices) VALUES ('basic', 1)", uniqueViolation, "plans_name_key"},
		{"plan limits", "INSERT INTO plans (name, max_devices, max_sessions, speed_limit_mbps) VALUES ('p4', 1, 2, 40)", "", ""},
		{"plan zero sessions", "INSERT INTO plans (name, max_devices, max_sessions) VALUES ('p5', 1, 0)", checkViolation, "plans_max_sessions_check"},
		{"plan zero speed", "INSERT INTO plans (name, max_devices, speed_limit_mbps) VALUES ('p6', 1, 0)", checkViolation, "plans_speed_limit_mbps_check"},
		{"user overrides", "UPDATE users SET traffic_limit_gb = 0.5, speed_limit_mbps = 10, max_sessions = 1 WHERE id = 1", "", ""},
		{"user zero traffic", "UPDATE users SET traffic_limit_gb = 0 WHERE id = 1", checkViolation, "users_traffic_limit_gb_check"},
		{"user zero speed", "UPDATE users SET speed_limit_mbps = 0 WHERE id = 1", checkViolation, "users_speed_limit_mbps_check"},
		{"user zero sessions", "UPDATE users SET max_sessions = 0 WHERE id = 1", checkViolation, "users_max_sessions_check"},
		{"live session", "INSERT INTO live_sessions (session_id, user_id, device_uuid, gateway_node_name, expires_at) VALUES ('00000000-0000-0000-0000-000000000002', 1, 'dev-1', 'gw-1', now())", "", ""},
		{"second open slot of a device", "INSERT INTO live_sessions (session_id, user_id, device_uuid, gateway_node_name, expires_at) VALUES ('00000000-0000-0000-0000-000000000003', 1, 'dev-1', 'gw-1', now())", uniqueViolation, "live_sessions_open_device_uuid_idx"},
		{"live session negative grant", "INSERT INTO live_sessions (session_id, user_id, device_uuid, gateway_node_name, granted, expires_at) VALUES ('00000000-0000-0000-0000-000000000004', 1, 'dev-2', 'gw-1', -1, now())", checkViolation, "live_sessions_granted_check"},
		{"usage reset", "INSERT INTO usage_resets (user_id, period_start, bytes_up, bytes_down, reason) VALUES (1, '2026-12-01', 5, 6, 'plan renewed')", "", ""},
		{"usage reset mid-month", "INSERT INTO usage_resets (user_id, period_start, bytes_up, bytes_down, reason) VALUES (1, '2026-12-02', 5, 6, 'x')", checkViolation, "usage_resets_period_start_check"},
		{"usage reset without reason", "INSERT INTO usage_resets (user_id, period_start, bytes_up, bytes_down, reason) VALUES (1, '2026-12-01', 5, 6, '')", checkViolation, "usage_resets_reason_check"},
		{"device uuid all allowed characters", device("'AZaz09_-'"), "", ""},
		{"device uuid 64 characters", device("'" + strings.Repeat("x", 64) + "'"), "", ""},
		{"device uuid 65 characters", device("'" + strings.Repeat("y", 65) + "'"), checkViolation, "devices_device_uuid_check"},
		{"device uuid empty", device("''"), checkViolation, "devices_device_uuid_check"},
		{"device uuid dot", device("'dev.2'"), checkViolation, "devices_device_uuid_check"},
		{"device uuid wildcard", device("'dev*'"), checkViolation, "devices_device_uuid_check"},
		{"device uuid tail wildcard", device("'dev>'"), checkViolation, "devices_device_uuid_check"},
		{"device uuid space", device("'dev 3'"), checkViolation, "devices_device_uuid_check"},
		{"device uuid trailing newline", device("E'dev4\\n'"), checkViolation, "devices_device_uuid_check"},
		{"device uuid duplicate", device("'dev-1'"), uniqueViolation, "devices_device_uuid_key"},
		{"device unknown user", "INSERT INTO devices (user_id, device_uuid) VALUES (999, 'dev-5')", foreignKeyViolation, "devices_user_id_fkey"},
		{"device status unknown", "INSERT INTO devices (user_id, device_uuid, status) VALUES (1, 'dev-6', 'banned')", checkViolation, "devices_status_check"},
		{"device token version zero", "INSERT INTO devices (user_id, device_uuid, token_version) VALUES (1, 'dev-7', 0)", checkViolation, "devices_token_version_check"},
		{"subscription cancelled", "INSERT INTO subscriptions (user_id, plan_id, valid_until, status) VALUES (1, 1, now(), 'cancelled')", "", ""},
		{"subscription status unknown", "INSERT INTO subscriptions (user_id, plan_id, valid_until, status) VALUES (1, 1, now(), 'paused')", checkViolation, "subscriptions_status_check"},
		{"subscription unknown plan", "INSERT INTO subscriptions (user_id, plan_id, valid_until) VALUES (1, 999, now())", foreignKeyViolation, "subscriptions_plan_id_fkey"},
		{"subscription without end", "INSERT INTO subscriptions (user_id, plan_id) VALUES (1, 1)", notNullViolation, ""},
		{"region code dot", "INSERT INTO regions (code) VALUES ('eu.2')", checkViolation, "regions_code_check"},
		{"region code duplicate", "INSERT INTO regions (code) VALUES ('eu-1')", uniqueViolation, "regions_code_key"},
		{"outline port max", node("10.0.0.2", 65535, "10, 'unhealthy'"), "", ""},
		{"outline port zero", node("10.0.0.3", 0, "10, 'healthy'"), checkViolation, "outline_nodes_ss_port_check"},
		{"outline port too big", node("10.0.0.3", 65536, "10, 'healthy'"), checkViolation, "outline_nodes_ss_port_check"},
		{"outline health unknown", node("10.0.0.3", 8388, "10, 'degraded'"), checkViolation, "outline_nodes_health_status_check"},
		{"outline zero sessions", node("10.0.0.3", 8388, "0, 'healthy'"), checkViolation, "outline_nodes_max_sessions_check"},
		{"outline endpoint duplicate", node("10.0.0.1", 8388, "10, 'offline'"), uniqueViolation, "outline_nodes_internal_ip_ss_port_key"},
		{"outline same ip other port", node("10.0.0.1", 8389, "10, 'offline'"), "", ""},
		{"outline unknown region", "INSERT INTO outline_nodes (region_id, internal_ip, ss_port, ss_method, ss_password, max_sessions) VALUES (999, '10.0.0.9', 1, 'm', 'p', 1)", foreignKeyViolation, "outline_nodes_region_id_fkey"},
		{"gateway draining without region", "INSERT INTO gateway_nodes (name, status) VALUES ('gw-2', 'draining')", "", ""},
		{"gateway status unknown", "INSERT INTO gateway_nodes (name, status) VALUES ('gw-3', 'up')", checkViolation, "gateway_nodes_status_check"},
		{"gateway name dot", "INSERT INTO gateway_nodes (name) VALUES ('gw.4')", checkViolation, "gateway_nodes_name_check"},
		{"gateway name duplicate", "INSERT INTO gateway_nodes (name) VALUES ('gw-1')", uniqueViolation, "gateway_nodes_name_key"},
		{"gateway negative sessions", "INSERT INTO gateway_nodes (name, sessions) VALUES ('gw-5', -1)", checkViolation, "gateway_nodes_sessions_check"},
		{"gateway negative rate", "INSERT INTO gateway_nodes (name, bytes_up_per_sec) VALUES ('gw-6', -0.5)", checkViolation, "gateway_nodes_bytes_up_per_sec_check"},
		{"session duplicate", "INSERT INTO sessions (id, device_uuid, gateway_node_name) VALUES ('00000000-0000-0000-0000-000000000001', 'dev-1', 'gw-1')", uniqueViolation, "sessions_pkey"},
		{"session not a uuid", "INSERT INTO sessions (id, device_uuid, gateway_node_name) VALUES ('s-1', 'dev-1', 'gw-1')", "22P02", ""},
		{"session negative bytes", "INSERT INTO sessions (id, device_uuid, gateway_node_name, bytes_down) VALUES (gen_random_uuid(), 'dev-1', 'gw-1', -1)", checkViolation, "sessions_bytes_down_check"},
		{"session without gateway", "INSERT INTO sessions (id, device_uuid, gateway_node_name) VALUES (gen_random_uuid(), 'dev-1', '')", checkViolation, "sessions_gateway_node_name_check"},
		{"session unknown user", "INSERT INTO sessions (id, user_id, device_uuid, gateway_node_name) VALUES (gen_random_uuid(), 999, 'dev-1', 'gw-1')", foreignKeyViolation, "sessions_user_id_fkey"},
		{"node session duplicate", "INSERT INTO outline_node_sessions (session_id, outline_node_id) VALUES ('00000000-0000-0000-0000-000000000001', 1)", uniqueViolation, "outline_node_sessions_pkey"},
		{"usage mid month", "INSERT INTO usage_periods (user_id, period_start) VALUES (1, '2026-02-15')", checkViolation, "usage_periods_period_start_check"},
		{"usage next month", "INSERT INTO usage_periods (user_id, period_start) VALUES (1, '2026-02-01')", "", ""},
		{"usage duplicate period", "INSERT INTO usage_periods (user_id, period_start) VALUES (1, '2026-01-01')", uniqueViolation, "usage_periods_pkey"},
		{"usage negative", "INSERT INTO usage_periods (user_id, period_start, bytes_up) VALUES (1, '2026-03-01', -1)", checkViolation, "usage_periods_bytes_up_check"},
		{"limit event twice", "INSERT INTO usage_limit_events (user_id, period_start) VALUES (1, '2026-01-01')", uniqueViolation, "usage_limit_events_pkey"},
		{"limit event mid month", "INSERT INTO usage_limit_events (user_id, period_start) VALUES (1, '2026-01-02')", checkViolation, "usage_limit_events_period_start_check"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := bdb.ExecContext(t.Context(), tt.query)
			if tt.state == "" {
				if err != nil {
					t.Fatalf("rejected: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted, want SQLSTATE %s", tt.state)
			}
			if got := sqlState(err); got != tt.state {
				t.Fatalf("SQLSTATE %s (%v), want %s", got, err, tt.state)
			}
			if tt.constraint != "" && constraintName(err) != tt.constraint {
				t.Fatalf("constraint %q (%v), want %q", constraintName(err), err, tt.constraint)
			}
		})
	}
}
