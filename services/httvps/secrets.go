package httvps

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

const secretsFile = "dev-secrets.env"

var generatedSecrets = []string{"HTTVPS_SECRET_KEY", "HTTVPS_ADMIN_TOKEN", "HTTVPS_NODE_TOKEN", "HTTVPS_DEMO_OUTLINE_PASSWORD"}

func loadDevSecrets(dataDir string) (map[string]string, error) {
	path := filepath.Join(dataDir, secretsFile)
	values := map[string]string{}
	if f, err := os.Open(path); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), "="); ok {
				values[k] = v
			}
		}
		f.Close()
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
	}
	changed := false
	for _, name := range generatedSecrets {
		if values[name] == "" {
			b := make([]byte, 32)
			if _, err := rand.Read(b); err != nil {
				return nil, err
			}
			values[name] = hex.EncodeToString(b)
			changed = true
		}
	}
	if changed {
		if err := os.MkdirAll(dataDir, 0o755); err != nil {
			return nil, fmt.Errorf("create %s: %w", dataDir, err)
		}
		keys := make([]string, 0, len(values))
		for k := range values {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var sb strings.Builder
		for _, k := range keys {
			sb.WriteString(k + "=" + values[k] + "\n")
		}
		if err := os.WriteFile(path, []byte(sb.String()), 0o600); err != nil {
			return nil, fmt.Errorf("write %s: %w", path, err)
		}
	}
	return values, nil
}

func layered(primary func(string) (string, bool), fallback map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		if v, ok := primary(k); ok && strings.TrimSpace(v) != "" {
			return v, true
		}
		v, ok := fallback[k]
		return v, ok
	}
}
