// Package testenv starts what the gateway tests run against: a control plane answering on
// NATS, Shadowsocks servers (ss-server and outline-ss-server), TCP targets, the gateway and a
// protocol client.
package testenv
