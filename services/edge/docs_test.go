package edge_test

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

const (
	apiDoc          = "../../docs/02-control-plane-api.md"
	walkthroughInfo = "sh walkthrough"
)

// walkthroughScript joins the fenced blocks of the API document whose info string is
// "sh walkthrough", in order.
func walkthroughScript(tb testing.TB) (string, int) {
	tb.Helper()
	f, err := os.Open(apiDoc)
	if err != nil {
		tb.Fatalf("open %s: %v", apiDoc, err)
	}
	defer f.Close()
	var script strings.Builder
	script.WriteString("set -euo pipefail\n")
	blocks, in, line := 0, false, 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line++
		text := sc.Text()
		switch {
		case !in && strings.TrimSpace(text) == "```"+walkthroughInfo:
			in = true
			blocks++
			script.WriteString("# " + apiDoc + ":" + strconv.Itoa(line) + "\n")
		case in && strings.TrimSpace(text) == "```":
			in = false
		case in:
			script.WriteString(text + "\n")
		}
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	if in {
		tb.Fatalf("%s: unterminated walkthrough block", apiDoc)
	}
	return script.String(), blocks
}

// TestDocsWalkthrough runs the documented curl walkthrough against the real services.
func TestDocsWalkthrough(t *testing.T) {
	script, blocks := walkthroughScript(t)
	if blocks < 5 {
		t.Fatalf("%s has %d %q blocks", apiDoc, blocks, walkthroughInfo)
	}
	for _, tool := range []string{"bash", "curl", "jq"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("the documented walkthrough needs %s: %v", tool, err)
		}
	}
	h := startSystem(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", script)
	cmd.Env = append(os.Environ(), "EDGE="+h.url, "HTTVPS_ADMIN_TOKEN="+adminToken, "HTTVPS_NODE_TOKEN="+nodeToken)
	out, err := cmd.CombinedOutput()
	t.Logf("walkthrough output:\n%s", out)
	if err != nil {
		t.Fatalf("walkthrough failed: %v\nscript:\n%s", err, script)
	}
	for _, want := range []string{`"ok": true`, `"ss_password": "s3cret"`, "403", `"duplicate":false`, `"duplicate":true`, `"total_bytes": 6000`, `"traffic_limit_bytes": 50000000000`} {
		if !strings.Contains(string(out), want) {
			t.Errorf("walkthrough output lacks %s", want)
		}
	}
}
