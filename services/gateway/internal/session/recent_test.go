package session

import "testing"

func TestRecentIDsForgetTheOldest(t *testing.T) {
	r := recentIDs{size: 3}
	if r.has(1) {
		t.Fatal("an empty set has no ids")
	}
	for _, id := range []uint32{1, 2, 2, 3} {
		r.add(id)
	}
	if r.has(1) || !r.has(2) || !r.has(3) {
		t.Fatalf("after 1,2,2,3 with room for 3: has(1)=%v has(2)=%v has(3)=%v", r.has(1), r.has(2), r.has(3))
	}
	r.add(4)
	if !r.has(2) || !r.has(4) {
		t.Fatal("2 is still among the last three closed")
	}
	r.add(5)
	if r.has(2) || !r.has(3) || len(r.ring) != 3 {
		t.Fatalf("has(2)=%v has(3)=%v ring=%d", r.has(2), r.has(3), len(r.ring))
	}
}
