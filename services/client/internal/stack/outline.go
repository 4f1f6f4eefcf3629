package stack

import "github.com/httvps/httvps/shared/outlinenode"

// OutlineServer runs outline-ss-server's service in this process on 127.0.0.1, admitting
// loopback targets. Unlike ss-server it passes a client's half-close on to the target, as
// production Outline nodes do. stop closes it.
func OutlineServer() (node Node, stop func(), err error) {
	n, err := outlinenode.Start(outlinenode.Config{Addr: "127.0.0.1:0", Method: SSMethod, Password: SSPassword, KeyID: "client-stack"})
	if err != nil {
		return Node{}, nil, err
	}
	return Node{IP: "127.0.0.1", Port: n.Addr().Port, Method: SSMethod, Password: SSPassword, MaxSessions: 100000}, func() { _ = n.Close() }, nil
}
