package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/httvps/httvps/shared/pause"
	"strconv"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/services/httvps/system"
	"github.com/httvps/httvps/shared/admin"
)

// quotaCustomer creates, through the admin commands the REST edge sends, a user on a new plan of
// limit bytes (traffic_limit_gb) and n devices, with a 30-day subscription.
func quotaCustomer(ctx context.Context, a system.Admin, name string, limit int64, n int) (int64, []system.Device, error) {
	gb := json.Number(strconv.FormatFloat(float64(limit)/1e9, 'f', -1, 64))
	return limitedCustomer(ctx, a, name, map[string]any{"traffic_limit_gb": gb}, n)
}

// limitedCustomer creates a user on a new plan with the given limits and n devices.
func limitedCustomer(ctx context.Context, a system.Admin, name string, limits map[string]any, n int) (int64, []system.Device, error) {
	var user, plan struct {
		ID int64 `json:"id"`
	}
	fields := map[string]any{"name": "plan-" + name, "max_devices": n}
	for k, v := range limits {
		fields[k] = v
	}
	steps := []struct {
		resource string
		body     map[string]any
		out      any
	}{
		{schemas.ResourceUsers, map[string]any{"identifier": name + "@example.com", "identifier_kind": "email"}, &user},
		{schemas.ResourcePlans, fields, &plan},
		{schemas.ResourceSubscriptions, map[string]any{"user_id": &user.ID, "plan_id": &plan.ID, "days": 30}, nil},
	}
	for _, st := range steps {
		body, err := json.Marshal(st.body)
		if err != nil {
			return 0, nil, err
		}
		if err := a.Call(ctx, st.resource, schemas.VerbCreate, schemas.AdminRequest{Body: body}, st.out); err != nil {
			return 0, nil, fmt.Errorf("create %s: %w", st.resource, err)
		}
	}
	devices := make([]system.Device, n)
	for i := range devices {
		d, err := a.NewDevice(ctx, user.ID)
		if err != nil {
			return 0, nil, fmt.Errorf("create device: %w", err)
		}
		devices[i] = d
	}
	return user.ID, devices, nil
}

// sessionRow is what the quota part reads of a session row (GET /admin/sessions?user_id=).
type sessionRow struct {
	EndedAt   *time.Time `json:"ended_at"`
	EndReason *string    `json:"end_reason"`
	Total     int64      `json:"total_bytes"`
}

// settleQuota polls the user's session rows and usage (GET /admin/users/{id}/usage) until every
// row ended and the usage total is their sum, at most d, and keeps the last answers in c.
func settleQuota(ctx context.Context, a system.Admin, user int64, c *QuotaCase, d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		var rows []sessionRow
		list := schemas.AdminRequest{Filter: map[string]string{"user_id": strconv.FormatInt(user, 10)}, Limit: admin.MaxLimit}
		if err := a.Call(ctx, schemas.ResourceSessions, schemas.VerbList, list, &rows); err != nil {
			return fmt.Errorf("list sessions: %w", err)
		}
		var usage struct {
			Total int64 `json:"total_bytes"`
		}
		if err := a.Call(ctx, schemas.ResourceUsage, schemas.VerbGet, schemas.AdminRequest{ID: user}, &usage); err != nil {
			return fmt.Errorf("get usage: %w", err)
		}
		var sum int64
		ended := true
		c.Rows, c.Ended, c.Charged = len(rows), 0, usage.Total
		for _, r := range rows {
			sum += r.Total
			ended = ended && r.EndedAt != nil
			if r.EndReason != nil && *r.EndReason == schemas.EndReasonLimit {
				c.Ended++
			}
		}
		c.Settled = ended && len(rows) >= c.Sessions && sum == usage.Total
		if c.Settled || time.Now().After(deadline) || ctx.Err() != nil {
			return ctx.Err()
		}
		pause.For(ctx, 100*time.Millisecond)
	}
}
