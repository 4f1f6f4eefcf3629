package session

import "github.com/httvps/httvps/schemas"

// Live is what re-validation needs of a live session: its id and the hello it was accepted with.
type Live struct {
	ID    string
	Hello schemas.Hello
}

// Live lists the live sessions.
func (r *Registry) Live() []Live {
	all := r.all()
	out := make([]Live, len(all))
	for i, s := range all {
		out[i] = Live{ID: s.id, Hello: s.hello}
	}
	return out
}
