package session

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
