package usageaggregator

import (
	"context"
	"time"

	"github.com/uptrace/bun"
)

type applyResult struct {
	Applied      int
	Duplicates   int
	Unattributed int
	AddedUp      int64
	AddedDown    int64
	LimitUsers   []int64
}

// sessionChange is one session row before and after a batch, read under the row lock.
type sessionChange struct {
	UserID int64
	Old    byteTotals
	New    byteTotals
}

type periodKey struct {
	UserID int64
	Period time.Time
}

// totalsBatch is prepared before its transaction begins.
type totalsBatch struct {
	folded []sessionTotals
	in     sessionInput
}

func newTotalsBatch(reports []sessionTotals) totalsBatch {
	folded := foldTotals(reports)
	return totalsBatch{folded: folded, in: newSessionInput(folded)}
}

// apply applies cumulative totals inside tx: session rows are written in session id order, their
// totals become GREATEST(stored, reported) under the row lock, and only the growth is added to the
// user's month. A session whose user is not known yet keeps its totals at zero, so nothing is
// credited to nobody; a later report or the ended event carries the same cumulative totals.
func (b totalsBatch) apply(ctx context.Context, tx bun.Tx, now time.Time) (applyResult, error) {
	var res applyResult
	if len(b.folded) == 0 {
		return res, nil
	}
	changes, err := writeSessions(ctx, tx, b.in)
	if err != nil {
		return res, err
	}
	credits := map[periodKey]byteTotals{}
	for _, t := range b.folded {
		ch, ok := changes[t.SessionID]
		switch {
		case !ok:
			res.Duplicates += t.Reports
			continue
		case ch.UserID == 0:
			res.Unattributed += t.Reports
			continue
		}
		changed := t.changedReports(ch.Old)
		res.Applied += changed
		res.Duplicates += t.Reports - changed
		addUp, addDown := ch.New.Up-ch.Old.Up, ch.New.Down-ch.Old.Down
		if addUp == 0 && addDown == 0 {
			continue
		}
		res.AddedUp += addUp
		res.AddedDown += addDown
		key := periodKey{UserID: ch.UserID, Period: periodStart(t.ReportedAt)}
		c := credits[key]
		credits[key] = byteTotals{Up: c.Up + addUp, Down: c.Down + addDown}
	}
	res.LimitUsers, err = creditPeriods(ctx, tx, credits, periodStart(now))
	return res, err
}
