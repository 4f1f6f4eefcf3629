package migrations_test

import (
	"slices"
	"strings"
	"testing"
)

const (
	createdAt = "created_at timestamp with time zone not null"
	updatedAt = "updated_at timestamp with time zone not null"
)

var wantSchema = []struct {
	table   string
	columns []string
}{
	{"regions", []string{
		"id bigint not null",
		"code text not null",
		"name text not null",
		createdAt, updatedAt,
	}},
	{"plans", []string{
		"id bigint not null",
		"name text not null",
		"max_devices integer not null",
		"traffic_limit_gb numeric null",
		"price numeric null",
		"currency text null",
		createdAt, updatedAt,
	}},
	{"users", []string{
		"id bigint not null",
		"identifier text not null",
		"identifier_kind text not null",
		"status text not null",
		createdAt, updatedAt,
	}},
	{"devices", []string{
		"id bigint not null",
		"user_id bigint not null",
		"device_uuid text not null",
		"platform text not null",
		"status text not null",
		"token_version integer not null",
		"last_seen_at timestamp with time zone null",
		createdAt, updatedAt,
	}},
	{"subscriptions", []string{
		"id bigint not null",
		"user_id bigint not null",
		"plan_id bigint not null",
		"valid_until timestamp with time zone not null",
		"status text not null",
		createdAt, updatedAt,
	}},
	{"outline_nodes", []string{
		"id bigint not null",
		"region_id bigint not null",
		"name text not null",
		"internal_ip text not null",
		"ss_port integer not null",
		"ss_method text not null",
		"ss_password text not null",
		"max_sessions integer not null",
		"health_status text not null",
		"last_heartbeat_at timestamp with time zone null",
		createdAt, updatedAt,
		"health_reason text not null",
		"active_connections integer not null",
		"bytes_per_sec double precision not null",
		"probe_ms double precision null",
		"dial_failed_at timestamp with time zone null",
		"dial_error text not null",
	}},
	{"outline_node_dials", []string{
		"outline_node_id bigint not null",
		"gateway_node_name text not null",
		"failures integer not null",
		"last_failure_at timestamp with time zone null",
		"last_success_at timestamp with time zone null",
		"last_error text not null",
		createdAt, updatedAt,
	}},
	{"gateway_nodes", []string{
		"id bigint not null",
		"name text not null",
		"region_id bigint null",
		"public_ip text not null",
		"internal_ip text not null",
		"status text not null",
		"last_heartbeat_at timestamp with time zone null",
		"sessions integer not null",
		"streams integer not null",
		"bytes_up_per_sec double precision not null",
		"bytes_down_per_sec double precision not null",
		"version text not null",
		createdAt, updatedAt,
	}},
	{"outline_node_sessions", []string{
		"session_id uuid not null",
		"outline_node_id bigint not null",
		"gateway_node_name text not null",
		"started_at timestamp with time zone not null",
		createdAt, updatedAt,
	}},
	{"sessions", []string{
		"id uuid not null",
		"user_id bigint null",
		"device_id bigint null",
		"device_uuid text not null",
		"gateway_node_name text not null",
		"gateway_node_id bigint null",
		"outline_node_id bigint null",
		"region text not null",
		"started_at timestamp with time zone not null",
		"ended_at timestamp with time zone null",
		"bytes_up bigint not null",
		"bytes_down bigint not null",
		"last_seq bigint not null",
		"end_reason text null",
		createdAt, updatedAt,
	}},
	{"usage_periods", []string{
		"user_id bigint not null",
		"period_start date not null",
		"bytes_up bigint not null",
		"bytes_down bigint not null",
		createdAt, updatedAt,
	}},
	{"usage_limit_events", []string{
		"user_id bigint not null",
		"period_start date not null",
		"notified_at timestamp with time zone not null",
		createdAt, updatedAt,
	}},
	{"live_sessions", []string{
		"session_id uuid not null",
		"user_id bigint not null",
		"device_uuid text not null",
		"gateway_node_name text not null",
		"granted bigint not null",
		"used bigint not null",
		"closed_at timestamp with time zone null",
		"expires_at timestamp with time zone not null",
		createdAt, updatedAt,
	}},
	{"usage_resets", []string{
		"id bigint not null",
		"user_id bigint not null",
		"period_start date not null",
		"bytes_up bigint not null",
		"bytes_down bigint not null",
		"reason text not null",
		"reset_at timestamp with time zone not null",
		createdAt, updatedAt,
	}},
}

var bookkeepingTables = []string{"bun_migration_locks", "bun_migrations"}

var wantIndexes = []string{
	"devices_user_id_status_idx",
	"subscriptions_user_id_status_valid_until_idx",
	"subscriptions_plan_id_idx",
	"outline_nodes_region_id_health_status_idx",
	"outline_node_sessions_outline_node_id_idx",
	"outline_node_sessions_gateway_node_name_idx",
	"sessions_open_gateway_node_name_idx",
	"sessions_user_id_started_at_idx",
	"sessions_device_id_idx",
	"sessions_outline_node_id_idx",
	"live_sessions_user_id_idx",
	"live_sessions_open_device_uuid_idx",
	"live_sessions_expires_at_idx",
	"usage_resets_user_id_period_start_idx",
}

func TestUpCreatesTables(t *testing.T) {
	t.Parallel()
	bdb := migratedDB(t)
	tables := publicTables(t, bdb)
	for _, tt := range wantSchema {
		t.Run(tt.table, func(t *testing.T) {
			if _, ok := slices.BinarySearch(tables, tt.table); !ok {
				t.Fatalf("table %s missing; have %v", tt.table, tables)
			}
			var got []string
			err := bdb.NewRaw(`SELECT column_name || ' ' || data_type || CASE is_nullable WHEN 'YES' THEN ' null' ELSE ' not null' END
				FROM information_schema.columns WHERE table_schema = 'public' AND table_name = ? ORDER BY ordinal_position`, tt.table).
				Scan(t.Context(), &got)
			if err != nil {
				t.Fatal(err)
			}
			for _, col := range tt.columns {
				if !slices.Contains(got, col) {
					t.Errorf("column %q missing in %s: %s", col, tt.table, strings.Join(got, ", "))
				}
			}
			if extra := slices.DeleteFunc(slices.Clone(got), func(c string) bool { return slices.Contains(tt.columns, c) }); len(extra) > 0 {
				t.Logf("%s also has columns added by later migrations: %s", tt.table, strings.Join(extra, ", "))
			}
			defaults := queryStrings(t, bdb, `SELECT column_name::text FROM information_schema.columns
				WHERE table_schema = 'public' AND table_name = ? AND column_name IN ('created_at', 'updated_at') AND column_default = 'now()'`, tt.table)
			if !slices.Equal(defaults, []string{"created_at", "updated_at"}) {
				t.Errorf("created_at/updated_at default now(): got %v", defaults)
			}
			if n := queryInt(t, bdb, `SELECT count(*) FROM information_schema.triggers
				WHERE event_object_table = ? AND trigger_name = ? || '_set_updated_at'`, tt.table, tt.table); n != 1 {
				t.Errorf("updated_at trigger missing on %s", tt.table)
			}
		})
	}
}

func TestUpCreatesIndexes(t *testing.T) {
	t.Parallel()
	bdb := migratedDB(t)
	have := queryStrings(t, bdb, "SELECT indexname::text FROM pg_indexes WHERE schemaname = 'public'")
	for _, name := range wantIndexes {
		t.Run(name, func(t *testing.T) {
			if _, ok := slices.BinarySearch(have, name); !ok {
				t.Fatalf("index %s missing; have %v", name, have)
			}
		})
	}
}
