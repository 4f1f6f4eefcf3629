package provision

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/httvps/httvps/shared/natsx"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// jsClusterNoPeers: the stream's replicas cannot be placed yet (peers still joining).
const jsClusterNoPeers jetstream.ErrorCode = 10005

// unreachable: nothing answered; the servers may still be starting.
func unreachable(err error) bool {
	var ne net.Error
	return errors.Is(err, nats.ErrNoServers) || errors.Is(err, nats.ErrTimeout) || errors.As(err, &ne)
}

// connectError names the setting behind a connection NATS refused.
func connectError(err error) error {
	var unknown x509.UnknownAuthorityError
	var verify *tls.CertificateVerificationError
	switch {
	case errors.Is(err, nats.ErrAuthorization):
		return fmt.Errorf("%s: NATS refused this identity: is its public key in the accounts block the servers load? (%w)", natsx.EnvNkeyFile, err)
	case errors.As(err, &unknown), errors.As(err, &verify):
		return fmt.Errorf("%s: the servers' certificate is not signed by this CA: %w", natsx.EnvCAFile, err)
	}
	return fmt.Errorf("%s: %w", natsx.EnvURL, err)
}

// clusterForming: an error a JetStream cluster gives while it elects leaders or gathers peers.
func clusterForming(err error) bool {
	var api *jetstream.APIError
	if errors.As(err, &api) {
		if api.ErrorCode == jetstream.JSErrCodeJetStreamNotEnabledForAccount || api.ErrorCode == jetstream.JSErrCodeJetStreamNotEnabled {
			return false
		}
		return api.Code == 503 || api.Code == 408 || api.ErrorCode == jsClusterNoPeers
	}
	return !errors.Is(err, jetstream.ErrJetStreamNotEnabledForAccount)
}

func isPermissionViolation(err error) bool {
	return errors.Is(err, nats.ErrPermissionViolation) || strings.Contains(strings.ToLower(err.Error()), "permissions violation")
}
