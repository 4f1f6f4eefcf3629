package httvps_test

import (
	"crypto/tls"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/httvps/httvps/services/accounts"
	"github.com/httvps/httvps/services/edge"
	"github.com/httvps/httvps/services/gateway"
	noderegistry "github.com/httvps/httvps/services/node-registry"
	outlineagent "github.com/httvps/httvps/services/outline-agent"
	usageaggregator "github.com/httvps/httvps/services/usage-aggregator"
	"github.com/httvps/httvps/shared/app"
	"github.com/httvps/httvps/shared/config"
	"github.com/httvps/httvps/shared/devtls"
	"github.com/httvps/httvps/shared/natsauth"
	"github.com/httvps/httvps/shared/natsx"
	"github.com/httvps/httvps/shared/provision"
	"github.com/nats-io/nats-server/v2/server"
	"gopkg.in/yaml.v3"
)

type composeFile struct {
	Services map[string]struct {
		Build *struct {
			Args map[string]string `yaml:"args"`
		} `yaml:"build"`
		Image       string            `yaml:"image"`
		Command     []string          `yaml:"command"`
		Environment map[string]string `yaml:"environment"`
		Volumes     []string          `yaml:"volumes"`
		Restart     string            `yaml:"restart"`
		DependsOn   map[string]struct {
			Condition string `yaml:"condition"`
		} `yaml:"depends_on"`
	} `yaml:"services"`
}

func readCompose(tb testing.TB) composeFile {
	tb.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "docker-compose.yml"))
	if err != nil {
		tb.Fatal(err)
	}
	var cf composeFile
	if err := yaml.Unmarshal(raw, &cf); err != nil {
		tb.Fatalf("docker-compose.yml: %v", err)
	}
	return cf
}

var binaryConfigs = map[string]func(env *config.Env){
	"services/accounts/cmd/httvps-accounts": func(env *config.Env) {
		app.LoadProcess(env, "accounts", app.NATSAndDB, accounts.LoadConfig(env).MetricsAddr)
	},
	"services/node-registry/cmd/httvps-node-registry": func(env *config.Env) {
		noderegistry.LoadConfig(env)
		app.LoadProcess(env, "node-registry", app.NATSAndDB, "")
	},
	"services/usage-aggregator/cmd/httvps-usage-aggregator": func(env *config.Env) {
		usageaggregator.LoadConfig(env)
		app.LoadProcess(env, "usage-aggregator", app.NATSAndDB, "")
	},
	"services/edge/cmd/httvps-edge": func(env *config.Env) {
		edge.LoadConfig(env)
		app.LoadProcess(env, "edge", app.NATSOnly, "")
	},
	"services/gateway/cmd/httvps-gateway": func(env *config.Env) { gateway.LoadConfig(env) },
	"services/outline-agent/cmd/httvps-outline-agent": func(env *config.Env) {
		outlineagent.LoadConfig(env)
		app.LoadProcess(env, "outline-agent", app.NATSOnly, "")
	},
	"migrations/cmd/httvps-migrate": func(env *config.Env) { env.String(app.EnvDatabaseURL, "") },
	"shared/cmd/httvps-provision":   func(env *config.Env) { provision.LoadConfig(env) },
}

func TestComposeSetsOnlyVariablesTheServicesKnow(t *testing.T) {
	root := filepath.Join("..", "..")
	cf := readCompose(t)
	built := map[string]bool{}
	for name, svc := range cf.Services {
		if svc.Build == nil {
			continue
		}
		cmd := svc.Build.Args["CMD"]
		load, ok := binaryConfigs[cmd]
		if !ok {
			t.Errorf("service %s builds %q, which is not an HTTVPS command this test knows", name, cmd)
			continue
		}
		built[cmd] = true
		if _, err := os.Stat(filepath.Join(root, cmd, "main.go")); err != nil {
			t.Errorf("service %s: %v", name, err)
		}
		env := config.FromMap(nil)
		load(env)
		known := map[string]bool{}
		for _, k := range env.Known() {
			known[k] = true
		}
		for k := range svc.Environment {
			if strings.HasPrefix(k, config.Prefix) && !known[k] {
				t.Errorf("service %s sets %s, which %s does not read", name, k, cmd)
			}
		}
	}
	var missing []string
	for cmd := range binaryConfigs {
		if !built[cmd] {
			missing = append(missing, cmd)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("docker-compose.yml has no service for %v", missing)
	}
	for _, n := range []string{"postgres", "nats-1", "nats-2", "nats-3", "outline"} {
		if _, ok := cf.Services[n]; !ok {
			t.Errorf("docker-compose.yml lacks %s", n)
		}
	}
}

func TestComposeNATSConfigsExist(t *testing.T) {
	root := filepath.Join("..", "..")
	cf := readCompose(t)
	for _, n := range []string{"nats-1", "nats-2", "nats-3"} {
		svc := cf.Services[n]
		if len(svc.Command) != 2 || svc.Command[0] != "-c" {
			t.Fatalf("%s command = %v", n, svc.Command)
		}
		conf := filepath.Join(root, "nats", filepath.Base(svc.Command[1]))
		if _, err := os.Stat(conf); err != nil {
			t.Errorf("%s: %v", n, err)
		}
	}
}

func TestNATSServerConfigsParse(t *testing.T) {
	dir := t.TempDir()
	store := natsauth.Store{Dir: filepath.Join(dir, "identities")}
	if _, err := store.Create(natsauth.RoleGateway, "gw-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := store.WriteConfig(filepath.Join(dir, "auth", "accounts.conf")); err != nil {
		t.Fatal(err)
	}
	caFile, pair, err := devtls.Pair(dir, "nats", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	cf := readCompose(t)
	files := map[string]string{"/etc/httvps/tls/nats.pem": pair.Cert, "/etc/httvps/tls/nats-key.pem": pair.Key, "/etc/httvps/tls/ca.pem": caFile}
	for k, v := range cf.Services["nats-1"].Environment {
		if files[v] == "" {
			t.Fatalf("nats-1 sets %s=%s, which this test does not know", k, v)
		}
		t.Setenv(k, files[v])
	}
	confs, err := filepath.Glob(filepath.Join("..", "..", "nats", "*.conf"))
	if err != nil || len(confs) != 4 {
		t.Fatalf("nats configs: %v %v", confs, err)
	}
	for _, f := range confs {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			copied := filepath.Join(dir, filepath.Base(f))
			if err := os.WriteFile(copied, data, 0o644); err != nil {
				t.Fatal(err)
			}
			opts, err := server.ProcessConfigFile(copied)
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if !opts.JetStream {
				t.Fatalf("%s: jetstream is off", f)
			}
			if opts.HTTPHost != "127.0.0.1" {
				t.Errorf("%s: monitoring on %q, want loopback", f, opts.HTTPHost)
			}
			if filepath.Base(f) == "dev.conf" {
				if opts.Host != "127.0.0.1" {
					t.Errorf("dev.conf listens on %q without TLS, want loopback only", opts.Host)
				}
				return
			}
			if opts.TLSConfig == nil || opts.Cluster.TLSConfig == nil || opts.Cluster.TLSConfig.ClientAuth != tls.RequireAndVerifyClientCert {
				t.Errorf("%s: client TLS %v, route TLS %v with client certificates required", f, opts.TLSConfig != nil, opts.Cluster.TLSConfig != nil)
			}
			if len(opts.Nkeys) != 1 || len(opts.Users) != 0 {
				t.Errorf("%s: %d nkey users and %d password users, want the generated gateway only", f, len(opts.Nkeys), len(opts.Users))
			}
		})
	}
}

// TestComposeGivesEachProcessItsOwnIdentity: every NATS client speaks TLS with its own nkey.
func TestComposeGivesEachProcessItsOwnIdentity(t *testing.T) {
	cf := readCompose(t)
	seeds := map[string]string{}
	for name, svc := range cf.Services {
		url, ok := svc.Environment[natsx.EnvURL]
		if !ok {
			continue
		}
		if !natsx.URLsUseTLS(url) || natsx.URLsHaveCredentials(url) {
			t.Errorf("%s: %s=%s, want tls:// URLs without passwords", name, natsx.EnvURL, url)
		}
		seedPath := svc.Environment[natsx.EnvNkeyFile]
		var seed string
		for _, v := range svc.Volumes {
			if src, dst, _ := strings.Cut(strings.TrimSuffix(v, ":ro"), ":"); dst == seedPath {
				seed = filepath.Base(src)
			}
		}
		want := natsauth.RoleService + "-" + name + ".nk"
		switch name {
		case "gateway":
			want = natsauth.RoleGateway + "-" + svc.Environment[gateway.EnvGatewayID] + ".nk"
		case "outline-agent":
			want = natsauth.RoleAgent + "-" + svc.Environment[outlineagent.EnvNodeID] + ".nk"
		case "provision":
			want = natsauth.RoleService + "-" + natsauth.Provisioner + ".nk"
		}
		if seed != want {
			t.Errorf("%s: mounts seed %q at %s, want its own %s", name, seed, seedPath, want)
		}
		if other, dup := seeds[seed]; dup {
			t.Errorf("%s and %s share the identity %s", name, other, seed)
		}
		seeds[seed] = name
	}
	if len(seeds) != 7 {
		t.Errorf("%d NATS clients in compose, want provision, accounts, node-registry, usage-aggregator, edge, gateway and outline-agent", len(seeds))
	}
}

// TestComposeStartsServicesAfterTheirOneShots: every NATS client waits for provision to succeed
// (the services' identities may not create streams), every database client for migrate, and
// provision runs once, at 3 replicas, after the NATS nodes start.
func TestComposeStartsServicesAfterTheirOneShots(t *testing.T) {
	cf := readCompose(t)
	const completed = "service_completed_successfully"
	oneShots := map[string]string{"provision": natsx.EnvURL, "migrate": app.EnvDatabaseURL}
	for oneShot, variable := range oneShots {
		svc, ok := cf.Services[oneShot]
		if !ok {
			t.Fatalf("docker-compose.yml lacks %s", oneShot)
		}
		if svc.Restart != "" && svc.Restart != "no" {
			t.Errorf("%s restarts (%s): a one-shot must run once and report", oneShot, svc.Restart)
		}
		waiting := 0
		for name, other := range cf.Services {
			if _, uses := other.Environment[variable]; !uses || oneShots[name] != "" {
				continue
			}
			waiting++
			if dep, ok := other.DependsOn[oneShot]; !ok || dep.Condition != completed {
				t.Errorf("%s uses %s but does not wait for %s to complete successfully (depends_on %+v)", name, variable, oneShot, other.DependsOn)
			}
		}
		if waiting == 0 {
			t.Errorf("no service waits for %s", oneShot)
		}
	}
	prov := cf.Services["provision"]
	if prov.Environment[natsx.EnvReplicas] != "3" || len(prov.Command) != 1 || prov.Command[0] != "up" {
		t.Errorf("provision: %s=%q, command %v; want 3 and up", natsx.EnvReplicas, prov.Environment[natsx.EnvReplicas], prov.Command)
	}
	for _, n := range []string{"nats-1", "nats-2", "nats-3"} {
		if _, ok := prov.DependsOn[n]; !ok {
			t.Errorf("provision does not wait for %s to start", n)
		}
	}
}
