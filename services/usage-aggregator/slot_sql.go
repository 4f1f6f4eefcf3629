package usageaggregator

// The SQL of live-session slots and traffic leases. Every statement that decides runs after
// lockUserSQL, so the slots and grants of one user are decided one at a time across all copies
// of the aggregator.

const deviceOwnerSQL = `SELECT user_id FROM devices WHERE device_uuid = ?`

const lockUserSQL = `SELECT id FROM users WHERE id = ? FOR NO KEY UPDATE`

// userLimitsSQL reads the effective limits: the user's override, else the plan of the current
// subscription (the one that runs longest). No row means no current subscription.
const userLimitsSQL = `
SELECT floor(coalesce(u.traffic_limit_gb, p.traffic_limit_gb) * 1000000000)::bigint,
	coalesce(u.max_sessions, p.max_sessions, p.max_devices), p.name
FROM users u
JOIN subscriptions s ON s.user_id = u.id AND s.status = 'active' AND s.valid_until > now()
JOIN plans p ON p.id = s.plan_id
WHERE u.id = ?
ORDER BY s.valid_until DESC, s.id DESC
LIMIT 1`

// committedSQL is what the user's month already holds: reported usage plus the unreported part of
// every lease that has not expired. A lease's reported part is its session's stored totals; a
// session that moved more than its grant (it was unlimited until now) counts what it moved, the
// asking session (third and fourth arguments) with what it says it moved.
const committedSQL = `
SELECT (coalesce((SELECT up.bytes_up::numeric + up.bytes_down FROM usage_periods up
		WHERE up.user_id = ? AND up.period_start = date_trunc('month', now() AT TIME ZONE 'UTC')::date), 0)
	+ coalesce((SELECT sum(GREATEST(0, GREATEST(l.granted, l.used, CASE WHEN l.session_id::text = ? THEN ?::bigint ELSE 0 END)
			- coalesce(s.bytes_up + s.bytes_down, 0)))
		FROM live_sessions l LEFT JOIN sessions s ON s.id = l.session_id
		WHERE l.user_id = ? AND l.expires_at > now()), 0))::bigint`

const liveSlotsSQL = `
SELECT count(*) FROM live_sessions
WHERE user_id = ? AND closed_at IS NULL AND expires_at > now() AND session_id <> ?`

// replaceDeviceSQL closes the open slot of the device; its lease stays counted until it expires.
const replaceDeviceSQL = `
UPDATE live_sessions SET closed_at = now()
WHERE device_uuid = ? AND closed_at IS NULL AND session_id <> ?
RETURNING session_id::text, expires_at > now()`

const insertSlotSQL = `
INSERT INTO live_sessions (session_id, user_id, device_uuid, gateway_node_name, granted, expires_at)
VALUES (?, ?, ?, ?, ?, now() + make_interval(secs => ?))`

const slotSQL = `
SELECT user_id, gateway_node_name, granted, closed_at IS NOT NULL, expires_at > now()
FROM live_sessions WHERE session_id = ?`

const grantSQL = `
UPDATE live_sessions SET granted = ?, used = GREATEST(used, ?), expires_at = now() + make_interval(secs => ?)
WHERE session_id = ?`

// closeSlotSQL frees the slot and shrinks the lease to what the session relayed (its final
// totals, which may be less than it took from the lease); the rest returns to the user's pool at
// once, the used part counts until the final report is stored or the row expires.
const closeSlotSQL = `
UPDATE live_sessions SET closed_at = coalesce(closed_at, now()), granted = ?, used = ?,
	expires_at = now() + make_interval(secs => ?)
WHERE session_id = ? AND gateway_node_name = ?`

const keepaliveSQL = `
UPDATE live_sessions SET expires_at = now() + make_interval(secs => ?)
FROM unnest(?::uuid[]) AS v(id)
WHERE live_sessions.session_id = v.id AND gateway_node_name = ? AND closed_at IS NULL AND expires_at > now()
RETURNING live_sessions.session_id::text`

const closedSlotsSQL = `
SELECT session_id::text FROM live_sessions WHERE session_id = ANY(?::uuid[]) AND closed_at IS NOT NULL`

const purgeSlotsSQL = `
DELETE FROM live_sessions WHERE session_id IN (
	SELECT session_id FROM live_sessions WHERE expires_at < now() ORDER BY expires_at LIMIT ?
	FOR UPDATE SKIP LOCKED)`
