package usageaggregator

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

type periodTotal struct {
	UserID int64
	Period time.Time
	Total  int64
}

const creditPeriodsSQL = `
INSERT INTO usage_periods AS p (user_id, period_start, bytes_up, bytes_down, updated_at)
SELECT v.user_id, v.period_start, v.up, v.down, now()
FROM unnest(?::bigint[], ?::date[], ?::bigint[], ?::bigint[]) AS v(user_id, period_start, up, down)
ORDER BY v.user_id, v.period_start
ON CONFLICT (user_id, period_start) DO UPDATE SET
	bytes_up = LEAST(p.bytes_up::numeric + EXCLUDED.bytes_up, 9223372036854775807)::bigint,
	bytes_down = LEAST(p.bytes_down::numeric + EXCLUDED.bytes_down, 9223372036854775807)::bigint,
	updated_at = now()
RETURNING p.user_id, to_char(p.period_start, 'YYYY-MM-DD'),
	LEAST(p.bytes_up::numeric + p.bytes_down, 9223372036854775807)::bigint`

// creditPeriods adds the growth to usage_periods in (user, period) order and returns the new totals.
func creditPeriods(ctx context.Context, tx bun.Tx, credits map[periodKey]byteTotals) ([]periodTotal, error) {
	if len(credits) == 0 {
		return nil, nil
	}
	keys := slices.SortedFunc(maps.Keys(credits), func(a, b periodKey) int {
		return cmp.Or(cmp.Compare(a.UserID, b.UserID), a.Period.Compare(b.Period))
	})
	users, periods := make([]int64, len(keys)), make([]string, len(keys))
	ups, downs := make([]int64, len(keys)), make([]int64, len(keys))
	for i, k := range keys {
		users[i], periods[i] = k.UserID, k.Period.Format(dateLayout)
		ups[i], downs[i] = credits[k].Up, credits[k].Down
	}
	rows, err := tx.QueryContext(ctx, creditPeriodsSQL,
		pgdialect.Array(users), pgdialect.Array(periods), pgdialect.Array(ups), pgdialect.Array(downs))
	if err != nil {
		return nil, fmt.Errorf("credit usage periods: %w", err)
	}
	defer rows.Close()
	out := make([]periodTotal, 0, len(keys))
	for rows.Next() {
		var t periodTotal
		var period string
		if err := rows.Scan(&t.UserID, &period, &t.Total); err != nil {
			return nil, fmt.Errorf("credit usage periods: scan: %w", err)
		}
		if t.Period, err = time.Parse(dateLayout, period); err != nil {
			return nil, fmt.Errorf("credit usage periods: period %q: %w", period, err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("credit usage periods: %w", err)
	}
	return out, nil
}

// activeLimitSQL picks, per user, the plan of the active subscription that runs longest.
const activeLimitSQL = `
SELECT DISTINCT ON (s.user_id) s.user_id, p.traffic_limit_gb
FROM subscriptions s JOIN plans p ON p.id = s.plan_id
WHERE s.user_id = ANY(?::bigint[]) AND s.status = 'active' AND s.valid_until > now()
ORDER BY s.user_id, s.valid_until DESC, s.id DESC`

const limitCrossingsSQL = `
WITH t AS (SELECT * FROM unnest(?::bigint[], ?::bigint[]) AS t(user_id, total)),
lim AS (` + activeLimitSQL + `)
INSERT INTO usage_limit_events (user_id, period_start, notified_at)
SELECT t.user_id, ?::date, now()
FROM t JOIN lim ON lim.user_id = t.user_id
WHERE lim.traffic_limit_gb IS NOT NULL AND t.total >= lim.traffic_limit_gb * 1000000000
ORDER BY t.user_id
ON CONFLICT (user_id, period_start) DO NOTHING
RETURNING user_id`

// recordLimitCrossings inserts one usage_limit_events row per user whose current-month total reached
// the plan's traffic limit and returns the users that got their first row (the ones to notify).
func recordLimitCrossings(ctx context.Context, tx bun.Tx, totals []periodTotal, current time.Time) ([]int64, error) {
	var users, sums []int64
	for _, t := range totals {
		if t.Period.Equal(current) {
			users, sums = append(users, t.UserID), append(sums, t.Total)
		}
	}
	if len(users) == 0 {
		return nil, nil
	}
	rows, err := tx.QueryContext(ctx, limitCrossingsSQL,
		pgdialect.Array(users), pgdialect.Array(sums), pgdialect.Array(users), current.Format(dateLayout))
	if err != nil {
		return nil, fmt.Errorf("record limit crossings: %w", err)
	}
	defer rows.Close()
	var crossed []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("record limit crossings: scan: %w", err)
		}
		crossed = append(crossed, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("record limit crossings: %w", err)
	}
	return crossed, nil
}
