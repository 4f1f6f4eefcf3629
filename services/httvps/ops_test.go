package httvps_test

import (
	"bufio"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

var deployDir = filepath.Join("..", "..", "deploy")

// scrapeNames reads the metric families a running system exports.
func scrapeNames(t *testing.T, addr string) map[string]bool {
	t.Helper()
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	names := map[string]bool{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if line := sc.Text(); strings.HasPrefix(line, "# TYPE ") {
			names[strings.Fields(line)[2]] = true
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return names
}

type dashboard struct {
	Panels []struct {
		Title   string `json:"title"`
		Targets []struct {
			Expr string `json:"expr"`
		} `json:"targets"`
	} `json:"panels"`
}

var (
	metricName = regexp.MustCompile(`\b(httvps|process|go)_[a-z0-9_]+\b`)
	seriesOf   = regexp.MustCompile(`_(bucket|sum|count)$`)
)

func TestDashboardQueriesOnlyExportedMetrics(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(deployDir, "grafana", "httvps.json"))
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("deploy/grafana/httvps.json: %v", err)
	}
	sys := startSystem(t, baseEnv(t, reachableDir(t)))
	// Labelled families appear once something is counted: the first heartbeats and reports.
	var exported map[string]bool
	deadline := time.Now().Add(30 * time.Second)
	for {
		exported = scrapeNames(t, sys.MetricsAddr())
		if len(missingFrom(d, exported)) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	for _, m := range missingFrom(d, exported) {
		t.Errorf("panel %q queries %s, which the running system does not export", m[0], m[1])
	}
	queried := 0
	for _, p := range d.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("panel %q queries nothing", p.Title)
		}
		for _, target := range p.Targets {
			names := metricName.FindAllString(target.Expr, -1)
			if len(names) == 0 {
				t.Errorf("panel %q: %q names no metric", p.Title, target.Expr)
			}
			queried += len(names)
		}
	}
	if queried < 10 {
		t.Fatalf("the dashboard queries only %d metrics", queried)
	}
}

func TestPrometheusConfigParses(t *testing.T) {
	out, err := exec.Command("promtool", "check", "config", filepath.Join(deployDir, "prometheus", "prometheus.yml")).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool (make deps installs it): %v\n%s", err, out)
	}
}

func TestPrometheusConfigRejectsABrokenFile(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "prometheus.yml")
	if err := os.WriteFile(bad, []byte("scrape_configs:\n  - job_name: x\n    static_configs: [{targets: 5}]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("promtool", "check", "config", bad).CombinedOutput(); err == nil {
		t.Fatalf("promtool accepted a broken config:\n%s", out)
	}
}

// binaries are the commands operators run as services.
var binaries = []string{"httvps-accounts", "httvps-node-registry", "httvps-usage-aggregator", "httvps-edge", "httvps-gateway", "httvps-migrate",
	"httvps-provision"}

// TestSystemdProvisionRunsBeforeEveryNATSClient: the services' identities may not create streams,
// so the provisioning one-shot is ordered before each of them.
func TestSystemdProvisionRunsBeforeEveryNATSClient(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(deployDir, "systemd", "httvps-provision.service"))
	if err != nil {
		t.Fatal(err)
	}
	unit := string(raw)
	for _, want := range []string{"Type=oneshot", "RemainAfterExit=yes", "ExecStart=/usr/local/bin/httvps-provision up"} {
		if !strings.Contains(unit, "\n"+want+"\n") {
			t.Errorf("httvps-provision.service lacks %s", want)
		}
	}
	var before []string
	for _, line := range strings.Split(unit, "\n") {
		if v, ok := strings.CutPrefix(line, "Before="); ok {
			before = append(before, strings.Fields(v)...)
		}
	}
	for _, bin := range binaries {
		if bin == "httvps-migrate" || bin == "httvps-provision" {
			continue
		}
		if !slices.Contains(before, bin+".service") {
			t.Errorf("httvps-provision.service is not ordered before %s.service (Before=%v)", bin, before)
		}
	}
}

func TestSystemdUnitsVerify(t *testing.T) {
	root := filepath.Join("..", "..")
	cmds, err := filepath.Glob(filepath.Join(root, "*", "*", "cmd", "*"))
	if err != nil {
		t.Fatal(err)
	}
	more, _ := filepath.Glob(filepath.Join(root, "migrations", "cmd", "*"))
	shared, _ := filepath.Glob(filepath.Join(root, "shared", "cmd", "*"))
	more = append(more, shared...)
	var found []string
	for _, c := range append(cmds, more...) {
		found = append(found, filepath.Base(c))
	}
	sort.Strings(found)
	work := t.TempDir()
	for _, bin := range binaries {
		if !contains(found, bin) {
			t.Errorf("deploy/systemd/%s.service runs %s, which no cmd/ directory builds", bin, bin)
		}
		raw, err := os.ReadFile(filepath.Join(deployDir, "systemd", bin+".service"))
		if err != nil {
			t.Errorf("no unit for %s: %v", bin, err)
			continue
		}
		unit := string(raw)
		if !strings.Contains(unit, "ExecStart=/usr/local/bin/"+bin) {
			t.Errorf("%s.service does not start /usr/local/bin/%s", bin, bin)
		}
		// verify looks for the binary; it is installed on the target, not here.
		unit = strings.ReplaceAll(unit, "/usr/local/bin/"+bin, "/bin/true")
		if err := os.WriteFile(filepath.Join(work, bin+".service"), []byte(unit), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	units, _ := filepath.Glob(filepath.Join(work, "*.service"))
	out, err := exec.Command("systemd-analyze", append([]string{"verify"}, units...)...).CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Fatalf("systemd-analyze verify (make deps installs it): %v\n%s", err, out)
	}
}

func contains(list []string, s string) bool {
	i := sort.SearchStrings(list, s)
	return i < len(list) && list[i] == s
}

// missingFrom lists (panel, metric) pairs of the dashboard that exported lacks.
func missingFrom(d dashboard, exported map[string]bool) [][2]string {
	var out [][2]string
	for _, p := range d.Panels {
		for _, target := range p.Targets {
			for _, n := range metricName.FindAllString(target.Expr, -1) {
				if !exported[n] && !exported[seriesOf.ReplaceAllString(n, "")] {
					out = append(out, [2]string{p.Title, n})
				}
			}
		}
	}
	return out
}
