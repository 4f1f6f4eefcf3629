package session

// recentIDs remembers the last closed stream ids, so frames that crossed a close on the wire
// are dropped quietly instead of being taken for unknown streams.
type recentIDs struct {
	ring []uint32
	next int
	set  map[uint32]int
}

func newRecentIDs(size int) *recentIDs {
	return &recentIDs{ring: make([]uint32, size), set: make(map[uint32]int, size)}
}

func (r *recentIDs) add(id uint32) {
	if old := r.ring[r.next]; old != 0 {
		if r.set[old] <= 1 {
			delete(r.set, old)
		} else {
			r.set[old]--
		}
	}
	r.ring[r.next] = id
	r.set[id]++
	r.next = (r.next + 1) % len(r.ring)
}

func (r *recentIDs) has(id uint32) bool { return r.set[id] > 0 }
