package bench

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

const clockTicks = 100

// proc is a process whose CPU time a measurement watches; Others are more processes counted
// under the same name (e.g. PostgreSQL backends).
type proc struct {
	Name   string
	PID    int
	Others []int
}

func (p proc) pids() []int { return append([]int{p.PID}, p.Others...) }

// procTime is the CPU time of every process of p that still exists.
func procTime(p proc) map[int]time.Duration {
	out := map[int]time.Duration{}
	for _, pid := range p.pids() {
		if t, err := cpuTime(pid); err == nil {
			out[pid] = t
		}
	}
	return out
}

// children are the processes whose parent is pid.
func children(pid int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []int
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", child))
		if err != nil {
			continue
		}
		s := string(data)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		if f := strings.Fields(s[i+1:]); len(f) > 1 && f[1] == strconv.Itoa(pid) {
			out = append(out, child)
		}
	}
	return out
}

// cpuTime is the user+system CPU time of pid so far.
func cpuTime(pid int) (time.Duration, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	return time.Duration(utime+stime) * time.Second / clockTicks, nil
}

// cpuWatch measures the share of one core each process used between start and stop.
type cpuWatch struct {
	procs []proc
	start []map[int]time.Duration
	at    time.Time
}

func watchCPU(procs []proc) *cpuWatch {
	w := &cpuWatch{procs: procs, start: make([]map[int]time.Duration, len(procs)), at: time.Now()}
	for i, p := range procs {
		w.start[i] = procTime(p)
	}
	return w
}

// CPUShare is one process's CPU use in percent of one core.
type CPUShare struct {
	Name    string
	Percent float64
}

func (w *cpuWatch) stop() []CPUShare {
	elapsed := time.Since(w.at)
	out := make([]CPUShare, 0, len(w.procs))
	for i, p := range w.procs {
		var used time.Duration
		for pid, end := range procTime(p) {
			if begin, ok := w.start[i][pid]; ok {
				used += end - begin
			}
		}
		out = append(out, CPUShare{Name: p.Name, Percent: 100 * float64(used) / float64(elapsed)})
	}
	return out
}
