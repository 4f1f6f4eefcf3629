package httvps_test

import (
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
	} `yaml:"services"`
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
}

func TestComposeSetsOnlyVariablesTheServicesKnow(t *testing.T) {
	root := filepath.Join("..", "..")
	raw, err := os.ReadFile(filepath.Join(root, "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var cf composeFile
	if err := yaml.Unmarshal(raw, &cf); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
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
	raw, err := os.ReadFile(filepath.Join(root, "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var cf composeFile
	if err := yaml.Unmarshal(raw, &cf); err != nil {
		t.Fatal(err)
	}
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
	for _, v := range []string{"HTTVPS_NATS_GATEWAY_PASSWORD", "HTTVPS_NATS_CONTROL_PASSWORD", "HTTVPS_NATS_OPERATOR_PASSWORD", "HTTVPS_NATS_AGENT_PASSWORD"} {
		t.Setenv(v, "test-password")
	}
	files, err := filepath.Glob(filepath.Join("..", "..", "nats", "*.conf"))
	if err != nil || len(files) < 4 {
		t.Fatalf("nats configs: %v %v", files, err)
	}
	for _, f := range files {
		if filepath.Base(f) == "accounts.conf" {
			continue
		}
		t.Run(filepath.Base(f), func(t *testing.T) {
			opts, err := server.ProcessConfigFile(f)
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if !opts.JetStream {
				t.Fatalf("%s: jetstream is off", f)
			}
		})
	}
}
