// Package natsx connects to NATS, runs an embedded JetStream server and provisions the streams.
package natsx

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

type EmbeddedConfig struct {
	Host       string
	Port       int
	StoreDir   string
	ServerName string
	MaxStore   int64
}

var ErrPortTaken = errors.New("port is taken")

func StartEmbedded(cfg EmbeddedConfig, readyTimeout time.Duration) (*server.Server, error) {
	addr := net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port))
	if cfg.Port != server.RANDOM_PORT && cfg.Port != 0 {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, fmt.Errorf("embedded nats: listen on %s: %w: %v", addr, ErrPortTaken, err)
		}
		_ = ln.Close()
	}
	port := cfg.Port
	if port == 0 {
		port = server.RANDOM_PORT
	}
	opts := &server.Options{
		ServerName:        cfg.ServerName,
		Host:              cfg.Host,
		Port:              port,
		JetStream:         true,
		StoreDir:          cfg.StoreDir,
		JetStreamMaxStore: cfg.MaxStore,
		NoSigs:            true,
		NoLog:             true,
		MaxPayload:        1 << 20,
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("embedded nats: %w", err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(readyTimeout) {
		srv.Shutdown()
		return nil, fmt.Errorf("embedded nats: not ready on %s within %s", addr, readyTimeout)
	}
	if !srv.JetStreamEnabled() {
		srv.Shutdown()
		return nil, fmt.Errorf("embedded nats: jetstream did not start (store dir %s)", cfg.StoreDir)
	}
	return srv, nil
}
