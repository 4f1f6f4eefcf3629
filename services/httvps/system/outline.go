package system

import "github.com/httvps/httvps/shared/outlinenode"

// OutlineNode runs outline-ss-server's service in this process on addr (127.0.0.1:0 for a
// random port) as a node of region; unlike ss-server it passes a client's half-close on to the
// target, as production Outline nodes do.
func OutlineNode(addr, region string) (Node, *outlinenode.Node, error) {
	n, err := outlinenode.Start(outlinenode.Config{Addr: addr, Method: SSMethod, Password: SSPassword, KeyID: region})
	if err != nil {
		return Node{}, nil, err
	}
	return Node{Region: region, IP: n.Addr().IP.String(), Port: n.Addr().Port, Method: SSMethod, Password: SSPassword}, n, nil
}
