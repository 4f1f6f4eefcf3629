package metrics_test

import (
	"strings"
	"testing"

	"github.com/httvps/httvps/shared/metrics"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestSubsystem(t *testing.T) {
	sub := metrics.Subsystem("demo")
	dbErrors := sub.DBErrors("operation", "admin", "sweep")
	collectors := []prometheus.Collector{
		sub.Counter("runs_total", "Runs."),
		sub.CounterVec("events_total", "Events by kind.", "kind"),
		sub.Gauge("pending", "Pending work."),
		sub.GaugeVec("nodes", "Nodes by kind and status.", "kind", "status"),
		dbErrors,
		metrics.Subsystem("other").DBErrors("op"),
	}
	reg := prometheus.NewRegistry()
	if err := metrics.Register(reg, collectors...); err != nil {
		t.Fatal(err)
	}
	collectors[1].(*prometheus.CounterVec).WithLabelValues("a").Inc()
	collectors[3].(*prometheus.GaugeVec).WithLabelValues("gateway", "online").Set(2)
	collectors[5].(*prometheus.CounterVec).WithLabelValues("store heartbeats").Inc()
	want := `
# HELP httvps_demo_db_errors_total Database errors by operation (admin, sweep).
# TYPE httvps_demo_db_errors_total counter
httvps_demo_db_errors_total{operation="admin"} 0
httvps_demo_db_errors_total{operation="sweep"} 0
# HELP httvps_demo_events_total Events by kind.
# TYPE httvps_demo_events_total counter
httvps_demo_events_total{kind="a"} 1
# HELP httvps_demo_nodes Nodes by kind and status.
# TYPE httvps_demo_nodes gauge
httvps_demo_nodes{kind="gateway",status="online"} 2
# HELP httvps_demo_pending Pending work.
# TYPE httvps_demo_pending gauge
httvps_demo_pending 0
# HELP httvps_demo_runs_total Runs.
# TYPE httvps_demo_runs_total counter
httvps_demo_runs_total 0
# HELP httvps_other_db_errors_total Database errors by operation.
# TYPE httvps_other_db_errors_total counter
httvps_other_db_errors_total{op="store heartbeats"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
		t.Fatal(err)
	}
}

func TestRegisterStopsAtFirstError(t *testing.T) {
	reg := prometheus.NewRegistry()
	sub := metrics.Subsystem("demo")
	first, again, later := sub.Counter("runs_total", "Runs."), sub.Counter("runs_total", "Runs."), sub.Counter("later_total", "Later.")
	err := metrics.Register(reg, first, again, later)
	if _, ok := err.(prometheus.AlreadyRegisteredError); !ok {
		t.Fatalf("err = %v, want AlreadyRegisteredError", err)
	}
	if reg.Unregister(later) {
		t.Fatal("a collector after the failing one was registered")
	}
}
