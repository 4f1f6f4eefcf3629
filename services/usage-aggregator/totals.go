package usageaggregator

import (
	"slices"
	"strings"
	"time"
)

type sessionTotals struct {
	SessionID     string
	UserID        int64
	DeviceUUID    string
	GatewayID     string
	Region        string
	OutlineNodeID int64
	Seq           int64
	Up            int64
	Down          int64
	StartedAt     time.Time
	ReportedAt    time.Time
	Reports       int
	members       []byteTotals
}

type byteTotals struct{ Up, Down int64 }

// foldTotals sorts by session and merges the reports of one session into one (max totals),
// so that every session row is locked once per batch and always in the same order.
func foldTotals(in []sessionTotals) []sessionTotals {
	order := make([]int, len(in))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return strings.Compare(in[a].SessionID, in[b].SessionID) })
	out := make([]sessionTotals, 0, len(in))
	for _, i := range order {
		if n := len(out); n > 0 && out[n-1].SessionID == in[i].SessionID {
			out[n-1].merge(in[i])
			continue
		}
		out = append(out, in[i])
	}
	return out
}

func (a sessionTotals) reported() []byteTotals {
	if a.members == nil {
		return []byteTotals{{a.Up, a.Down}}
	}
	return a.members
}

// merge folds b into a; a report of the same session from another gateway is counted but its
// totals are left out (a session belongs to one gateway, the stored row decides which).
func (a *sessionTotals) merge(b sessionTotals) {
	if b.GatewayID != a.GatewayID {
		a.Reports += b.Reports
		return
	}
	a.members = append(a.reported(), b.reported()...)
	if b.Seq > a.Seq {
		a.UserID = firstID(b.UserID, a.UserID)
		a.DeviceUUID = firstText(b.DeviceUUID, a.DeviceUUID)
		a.GatewayID = firstText(b.GatewayID, a.GatewayID)
		a.Region = firstText(b.Region, a.Region)
		a.OutlineNodeID = firstID(b.OutlineNodeID, a.OutlineNodeID)
	} else {
		a.UserID = firstID(a.UserID, b.UserID)
		a.DeviceUUID = firstText(a.DeviceUUID, b.DeviceUUID)
		a.GatewayID = firstText(a.GatewayID, b.GatewayID)
		a.Region = firstText(a.Region, b.Region)
		a.OutlineNodeID = firstID(a.OutlineNodeID, b.OutlineNodeID)
	}
	a.Seq = max(a.Seq, b.Seq)
	a.Up = max(a.Up, b.Up)
	a.Down = max(a.Down, b.Down)
	if b.StartedAt.Before(a.StartedAt) {
		a.StartedAt = b.StartedAt
	}
	if b.ReportedAt.After(a.ReportedAt) {
		a.ReportedAt = b.ReportedAt
	}
	a.Reports += b.Reports
}

// changedReports counts the reports of a folded session that raised a stored total; a repeat of
// the same totals counts once.
func (a sessionTotals) changedReports(stored byteTotals) int {
	raised := func(m byteTotals) bool { return m.Up > stored.Up || m.Down > stored.Down }
	if a.members == nil {
		if raised(byteTotals{a.Up, a.Down}) {
			return 1
		}
		return 0
	}
	seen := make(map[byteTotals]struct{}, len(a.members))
	n := 0
	for _, m := range a.members {
		if !raised(m) {
			continue
		}
		if _, dup := seen[m]; dup {
			continue
		}
		seen[m] = struct{}{}
		n++
	}
	return n
}

func firstText(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func firstID(a, b int64) int64 {
	if a > 0 {
		return a
	}
	return b
}

const dateLayout = "2006-01-02"

func periodStart(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
}
