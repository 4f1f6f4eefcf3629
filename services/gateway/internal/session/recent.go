package session

// recentIDs remembers the last closed stream ids, so frames that crossed a close on the wire
// are dropped quietly instead of being taken for unknown streams. It starts empty and grows
// with the streams a session closes, up to size ids.
type recentIDs struct {
	size int
	ring []uint32
	next int
	set  map[uint32]int
}

func (r *recentIDs) add(id uint32) {
	if r.set == nil {
		r.set = make(map[uint32]int)
	}
	if len(r.ring) < r.size {
		r.ring = append(r.ring, id)
		r.set[id]++
		return
	}
	old := r.ring[r.next]
	if r.set[old] <= 1 {
		delete(r.set, old)
	} else {
		r.set[old]--
	}
	r.ring[r.next] = id
	r.set[id]++
	r.next = (r.next + 1) % len(r.ring)
}

func (r *recentIDs) has(id uint32) bool { return r.set[id] > 0 }
