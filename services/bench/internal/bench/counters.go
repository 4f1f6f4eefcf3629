package bench

import (
	"os"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"github.com/prometheus/client_golang/prometheus"
)

// counters flattens the gateway's counters and gauges to name{label="value"} → value.
func counters(g prometheus.Gatherer) map[string]float64 {
	families, err := g.Gather()
	if err != nil {
		return nil
	}
	out := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+`="`+l.GetValue()+`"`)
			}
			sort.Strings(labels)
			key := f.GetName()
			if len(labels) > 0 {
				key += "{" + strings.Join(labels, ",") + "}"
			}
			switch {
			case m.GetCounter() != nil:
				out[key] = m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				out[key] = m.GetGauge().GetValue()
			}
		}
	}
	return out
}

// counter is one of the child's counters by name and labels, 0 when absent.
func (m Mem) counter(name string, labels ...string) float64 {
	key := "httvps_gateway_" + name
	if len(labels) > 0 {
		key += "{" + strings.Join(labels, ",") + "}"
	}
	return m.Counters[key]
}

func label(name, value string) string { return name + `="` + value + `"` }

// openFDs counts the open file descriptors of process pid.
func openFDs(pid int) (int, error) {
	entries, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/fd")
	return len(entries), err
}

func descriptorLimit() uint64 {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 0
	}
	return l.Cur
}
