package bench

import "testing"

func TestKeepRecorded(t *testing.T) {
	tests := []struct {
		name, old, report, want string
	}{
		{"no recorded part", "# old\nrows\n", "# new\n", "# new\n"},
		{"recorded part kept", "# old\n\n" + RecordedMarker + "\n## Fuzzing\nx\n", "# new\nrows\n", "# new\nrows\n\n" + RecordedMarker + "\n## Fuzzing\nx\n"},
		{"nothing before", "", "# new\n", "# new\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := KeepRecorded(tt.old, tt.report); got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}
