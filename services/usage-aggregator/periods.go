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

// activeLimitSQL picks, per user, the plan of the active subscription that runs longest.
const activeLimitSQL = `
SELECT DISTINCT ON (s.user_id) s.user_id, coalesce(u.traffic_limit_gb, p.traffic_limit_gb) AS traffic_limit_gb
FROM subscriptions s JOIN plans p ON p.id = s.plan_id JOIN users u ON u.id = s.user_id
WHERE s.user_id = ANY(?::bigint[]) AND s.status = 'active' AND s.valid_until > now()
ORDER BY s.user_id, s.valid_until DESC, s.id DESC`

// creditPeriodsSQL adds the growth in (user, period) order, then records the current month's limit
// crossings in user order and returns the users that got their first row.
const creditPeriodsSQL = `
WITH credited AS (
	INSERT INTO usage_periods AS p (user_id, period_start, bytes_up, bytes_down, updated_at)
	SELECT v.user_id, v.period_start, v.up, v.down, now()
	FROM unnest(?::bigint[], ?::date[], ?::bigint[], ?::bigint[]) AS v(user_id, period_start, up, down)
	ORDER BY v.user_id, v.period_start
	ON CONFLICT (user_id, period_start) DO UPDATE SET
		bytes_up = LEAST(p.bytes_up::numeric + EXCLUDED.bytes_up, 9223372036854775807)::bigint,
		bytes_down = LEAST(p.bytes_down::numeric + EXCLUDED.bytes_down, 9223372036854775807)::bigint,
		updated_at = now()
	RETURNING p.user_id, p.period_start, p.bytes_up::numeric + p.bytes_down AS total
),
lim AS (` + activeLimitSQL + `)
INSERT INTO usage_limit_events (user_id, period_start, notified_at)
SELECT c.user_id, c.period_start, now()
FROM credited c JOIN lim ON lim.user_id = c.user_id
WHERE c.period_start = ?::date AND lim.traffic_limit_gb IS NOT NULL AND c.total >= lim.traffic_limit_gb * 1000000000
ORDER BY c.user_id
ON CONFLICT (user_id, period_start) DO NOTHING
RETURNING user_id`

// creditPeriods returns the users to notify.
func creditPeriods(ctx context.Context, tx bun.Tx, credits map[periodKey]byteTotals, current time.Time) ([]int64, error) {
	if len(credits) == 0 {
		return nil, nil
	}
	keys := slices.SortedFunc(maps.Keys(credits), func(a, b periodKey) int {
		return cmp.Or(cmp.Compare(a.UserID, b.UserID), a.Period.Compare(b.Period))
	})
	users, periods := make([]int64, len(keys)), make([]string, len(keys))
	ups, downs := make([]int64, len(keys)), make([]int64, len(keys))
	var thisMonth []int64
	for i, k := range keys {
		users[i], periods[i] = k.UserID, k.Period.Format(dateLayout)
		ups[i], downs[i] = credits[k].Up, credits[k].Down
		if k.Period.Equal(current) {
			thisMonth = append(thisMonth, k.UserID)
		}
	}
	rows, err := tx.QueryContext(ctx, creditPeriodsSQL,
		pgdialect.Array(users), pgdialect.Array(periods), pgdialect.Array(ups), pgdialect.Array(downs),
		pgdialect.Array(thisMonth), current.Format(dateLayout))
	if err != nil {
		return nil, fmt.Errorf("credit usage periods: %w", err)
	}
	defer rows.Close()
	var crossed []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("credit usage periods: scan: %w", err)
		}
		crossed = append(crossed, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("credit usage periods: %w", err)
	}
	return crossed, nil
}
