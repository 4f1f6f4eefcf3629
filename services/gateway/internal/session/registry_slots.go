package session

import "github.com/httvps/httvps/schemas"

// SlotSessions lists the live sessions that hold a slot, for the keepalive.
func (r *Registry) SlotSessions() []string {
	var ids []string
	for _, s := range r.all() {
		if s.limits.quota != nil {
			ids = append(ids, s.id)
		}
	}
	return ids
}

// SlotsLost ends the sessions whose slots the control plane no longer holds.
func (r *Registry) SlotsLost(ids []string) int {
	lost := make(map[string]bool, len(ids))
	for _, id := range ids {
		lost[id] = true
	}
	n := 0
	for _, s := range r.all() {
		if lost[s.id] {
			s.terminate(ending{code: schemas.CodeSessionKicked, reason: schemas.EndReasonKicked,
				message: "the session's slot expired while the gateway could not renew it"})
			n++
		}
	}
	return n
}
