package usageaggregator

import "testing"

func TestIsUUID(t *testing.T) {
	cases := map[string]bool{
		"6f1c2a8e-3b7d-4e51-9a0c-2d4e8f7b1c3a":  true,
		"6F1C2A8E-3B7D-4E51-9A0C-2D4E8F7B1C3A":  true,
		"6f1c2a8e3b7d4e519a0c2d4e8f7b1c3a":      false,
		"6f1c2a8e-3b7d-4e51-9a0c-2d4e8f7b1c3":   false,
		"6f1c2a8e-3b7d-4e51-9a0c-2d4e8f7b1c3a0": false,
		"6f1c2a8e-3b7d-4e51-9a0c_2d4e8f7b1c3a":  false,
		"6f1c2a8g-3b7d-4e51-9a0c-2d4e8f7b1c3a":  false,
		"":                                      false,
	}
	for s, want := range cases {
		if got := isUUID(s); got != want {
			t.Errorf("isUUID(%q) = %v, want %v", s, got, want)
		}
	}
}
