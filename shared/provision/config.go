// Package provision is the one-shot deployment step that creates or updates the JetStream streams
// and durable consumers (natsx.Provision) with the provisioner's own NATS identity.
package provision

import (
	"time"

	"github.com/httvps/httvps/shared/config"
	"github.com/httvps/httvps/shared/natsauth"
	"github.com/httvps/httvps/shared/natsx"
)

// EnvTimeout bounds the whole run: waiting for the cluster to elect a JetStream leader included.
const EnvTimeout = "HTTVPS_PROVISION_TIMEOUT"

type Config struct {
	NATSURL  string
	NATSAuth natsx.Auth
	Streams  natsx.StreamsConfig
	Timeout  time.Duration
}

// LoadConfig reads the provisioner's settings. Production provisions at 3 replicas and refuses 1,
// like every binary refuses NATS without TLS or without the process's own nkey.
func LoadConfig(env *config.Env) Config {
	c := Config{Timeout: env.Duration(EnvTimeout, time.Minute, time.Second)}
	c.NATSURL, c.NATSAuth = natsx.LoadClient(env, natsx.DefaultURL, natsauth.ServiceInbox(natsauth.Provisioner))
	replicas := 1
	if env.Production() {
		replicas = 3
	}
	c.Streams = natsx.LoadStreams(env, replicas)
	if env.Production() && c.Streams.Replicas != 3 {
		env.Refuse(natsx.EnvReplicas, "streams at 1 replica lose what their node held; production runs the 3-node cluster at 3")
	}
	return c
}
