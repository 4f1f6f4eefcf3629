package usageaggregator

import (
	"testing"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/shared/testkit"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestDatabaseFailureLosesNothing(t *testing.T) {
	h := newHarness(t)
	svc := h.start(t, testConfig())
	f := h.sessionFixture(t)
	id := newSessionID()
	f.usage(t, id, 1, 100, 200, true)
	f.settle(t)

	h.exec(t, `ALTER TABLE usage_periods RENAME TO usage_periods_away`)
	f.usage(t, id, 2, 300, 500, true)
	testkit.Eventually(t, waitTimeout, "the batch nacked while usage_periods is missing", func() bool {
		return testutil.ToFloat64(svc.svc.m.consumer.Messages.WithLabelValues(schemas.ConsumerUsageAggregator, "nak")) > 0
	})
	if got, _ := h.session(t, id); got.BytesUp != 100 || got.BytesDown != 200 {
		t.Errorf("session totals moved without their usage: %+v", got)
	}
	if n := testutil.ToFloat64(svc.svc.m.dbErrors.WithLabelValues(opUsage)); n == 0 {
		t.Errorf("db_errors_total{operation=usage} = 0")
	}
	h.exec(t, `ALTER TABLE usage_periods_away RENAME TO usage_periods`)
	f.settle(t)
	if got, _ := h.session(t, id); got.BytesUp != 300 || got.BytesDown != 500 || got.LastSeq != 2 {
		t.Errorf("session after recovery %+v, want 300/500 seq 2", got)
	}
	if usage := h.periodUsage(t, f.user); usage != (byteTotals{Up: 300, Down: 500}) {
		t.Errorf("period usage after recovery %+v, want 300/500", usage)
	}
}
