package bench

import "strings"

// RecordedMarker starts the part of docs/benchmarks.md that other runs record (make
// fuzz-long); the bench keeps it when it writes the file again.
const RecordedMarker = "<!-- recorded by other runs (make fuzz-long); kept by httvps-bench -->"

// KeepRecorded appends to a new report the recorded part of the file it replaces.
func KeepRecorded(old, report string) string {
	i := strings.Index(old, RecordedMarker)
	if i < 0 {
		return report
	}
	return strings.TrimRight(report, "\n") + "\n\n" + old[i:]
}
