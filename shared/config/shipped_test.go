package config_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/httvps/httvps/shared/config"
)

// secretAssignment matches NAME=value and NAME: value of the secret variables, and Go literals
// given to fields or variables named like a secret.
var secretAssignment = regexp.MustCompile(`((?:HTTVPS_[A-Z_]*(?:SECRET_KEY|TOKEN|PASSWORD))|POSTGRES_PASSWORD)"?\s*[=:]\s*"?([A-Za-z0-9+/=_.-]{6,})` +
	`|((?i:[a-z]*(?:admintoken|nodetoken|secretkey|password)))\s*(?::=|=|:)\s*(?:\[\]byte\()?"([^"\s]{6,})"`)

// TestNoSecretShippedInTheRepositoryPassesProduction finds every literal value the repository
// gives a secret variable (examples, docs, tests, compose) and checks production refuses it.
func TestNoSecretShippedInTheRepositoryPassesProduction(t *testing.T) {
	root := filepath.Join("..", "..")
	found := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); name == ".git" || name == ".data" || name == "node_modules" || name == "secrets" {
				return filepath.SkipDir
			}
			return nil
		}
		switch filepath.Ext(path) {
		case ".go", ".md", ".yml", ".yaml", ".example", ".sh", ".env", ".conf", ".json":
		default:
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range secretAssignment.FindAllStringSubmatch(string(data), -1) {
			name, value := m[1]+m[3], m[2]+m[4]
			if strings.HasPrefix(value, "$") || strings.HasPrefix(value, "Env") {
				continue
			}
			found++
			if config.SecretProblem(value) == "" {
				t.Errorf("%s: %s=%s would pass production: add it to shippedSecrets", path, name, value)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if found < 5 {
		t.Fatalf("found %d shipped secret values, want at least the ones of deploy/compose/env.example", found)
	}
}

func TestSecretStrength(t *testing.T) {
	tests := []struct {
		name, value string
		refused     bool
	}{
		{"64 hex digits", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", false},
		{"base64 of 32 bytes", "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=", false},
		{"16 random bytes", "9f86d081884c7d659a2feaa0c55ad015", true},
		{"placeholder", "at-least-32-random-bytes-change-me-now", true},
		{"long but repetitive", strings.Repeat("abcdef", 20), true},
		{"a counter in it", "edge-system-test-secret-key-0123456789abcdef", true},
		{"empty", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := config.SecretProblem(tt.value) != ""; got != tt.refused {
				t.Errorf("refused = %v, want %v (%.0f bits)", got, tt.refused, config.SecretBits(tt.value))
			}
		})
	}
}
