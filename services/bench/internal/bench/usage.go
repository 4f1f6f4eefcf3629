package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/uptrace/bun"
)

// measureUsageAndInsert measures the usage-aggregator draining reports from the USAGE stream
// into PostgreSQL, then a plain multi-row INSERT of the same rows into the same database, in
// transactions of the aggregator's batch size.
func measureUsageAndInsert(ctx context.Context, in *infra, s Settings) (Usage, Usage, error) {
	var users []int64
	var devices []string
	for i := range s.UsageUsers {
		d, err := in.admin.Subscriber(ctx, fmt.Sprintf("usage-%d", i), 1)
		if err != nil {
			return Usage{}, Usage{}, err
		}
		users, devices = append(users, d.UserID), append(devices, d.DeviceUUID)
	}
	reports := makeReports(users, devices, s.UsageReports, s.UsageSessions)
	u, err := measureUsage(ctx, in, reports, s.UsageBudget)
	if err != nil {
		return Usage{}, Usage{}, err
	}
	ins, err := measureInsert(ctx, in, reports)
	return u, ins, err
}

func measureUsage(ctx context.Context, in *infra, reports []schemas.UsageReport, budget time.Duration) (Usage, error) {
	js, err := in.sys.JetStream()
	if err != nil {
		return Usage{}, err
	}
	if err := publishUsage(ctx, js, reports); err != nil {
		return Usage{}, err
	}
	total, err := pendingUsage(ctx, js)
	if err != nil {
		return Usage{}, err
	}
	cpu := watchCPU(in.controlProcs())
	start := time.Now()
	if _, err := in.sys.StartAggregator(ctx); err != nil {
		return Usage{}, err
	}
	if err := waitDrained(ctx, js, budget); err != nil {
		return Usage{}, err
	}
	elapsed := time.Since(start)
	shares := cpu.stop()
	var applied int64
	if err := in.sys.DB().NewRaw("SELECT coalesce(sum(last_seq), 0) FROM sessions WHERE gateway_node_name = ?", benchGatewayID).Scan(ctx, &applied); err != nil {
		return Usage{}, fmt.Errorf("check sessions: %w", err)
	}
	if applied != int64(len(reports)) {
		return Usage{}, fmt.Errorf("the sessions table holds %d of the %d reports", applied, len(reports))
	}
	return Usage{Reports: int(total), PerSec: float64(total) / elapsed.Seconds(), CPU: shares}, nil
}

type usageRow struct {
	bun.BaseModel `bun:"table:bench_usage_rows"`
	SessionID     string    `bun:"session_id,type:uuid"`
	Seq           int64     `bun:"seq"`
	GatewayID     string    `bun:"gateway_id"`
	Region        string    `bun:"region"`
	UserID        int64     `bun:"user_id"`
	DeviceID      string    `bun:"device_id"`
	BytesUp       int64     `bun:"bytes_up"`
	BytesDown     int64     `bun:"bytes_down"`
	DeltaUp       int64     `bun:"delta_up"`
	DeltaDown     int64     `bun:"delta_down"`
	StartedAt     time.Time `bun:"started_at"`
	ReportedAt    time.Time `bun:"reported_at"`
}

// measureInsert writes the reports as rows of a scratch table with multi-row INSERTs.
func measureInsert(ctx context.Context, in *infra, reports []schemas.UsageReport) (Usage, error) {
	db := in.sys.DB()
	if _, err := db.NewCreateTable().Model((*usageRow)(nil)).IfNotExists().Exec(ctx); err != nil {
		return Usage{}, fmt.Errorf("scratch table: %w", err)
	}
	defer func() { _, _ = db.NewDropTable().Model((*usageRow)(nil)).IfExists().Exec(context.WithoutCancel(ctx)) }()
	rows := make([]usageRow, len(reports))
	for i, r := range reports {
		rows[i] = usageRow{SessionID: r.SessionID, Seq: int64(r.Seq), GatewayID: r.GatewayID, Region: r.Region, UserID: r.UserID, DeviceID: r.DeviceID,
			BytesUp: r.BytesUp, BytesDown: r.BytesDown, DeltaUp: r.DeltaUp, DeltaDown: r.DeltaDown, StartedAt: r.StartedAt, ReportedAt: r.ReportedAt}
	}
	batch := in.sys.Config().Aggregator.BatchSize
	cpu := watchCPU(in.controlProcs())
	start := time.Now()
	for off := 0; off < len(rows); off += batch {
		chunk := rows[off:min(off+batch, len(rows))]
		err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			_, err := tx.NewInsert().Model(&chunk).Exec(ctx)
			return err
		})
		if err != nil {
			return Usage{}, fmt.Errorf("insert: %w", err)
		}
	}
	elapsed := time.Since(start)
	return Usage{Reports: len(rows), PerSec: float64(len(rows)) / elapsed.Seconds(), CPU: cpu.stop()}, nil
}
