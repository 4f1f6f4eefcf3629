package accounting

import (
	"container/list"
	"sync"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/services/gateway/internal/metrics"
	"github.com/httvps/httvps/shared/logging"
	"github.com/rs/zerolog"
)

// record is what is still to be published for one session: at most one item of each kind,
// the newest usage report replacing an older one.
type record struct {
	sessionID string
	started   *schemas.SessionStarted
	usage     *schemas.UsageReport
	ended     *schemas.SessionEnded
	elem      *list.Element
}

func (r *record) empty() bool { return r.started == nil && r.usage == nil && r.ended == nil }

// Outbox keeps what waits for JetStream, bounded by one record per session and a record limit.
type Outbox struct {
	limit  int
	bootID string
	m      *metrics.Metrics
	log    zerolog.Logger
	wake   chan struct{}

	mu      sync.Mutex
	records map[string]*record
	order   *list.List
}

func NewOutbox(limit int, m *metrics.Metrics, log zerolog.Logger) *Outbox {
	return &Outbox{limit: limit, m: m, log: log, wake: make(chan struct{}, 1), records: map[string]*record{}, order: list.New()}
}

func (o *Outbox) Started(ev schemas.SessionStarted) {
	ev.BootID = o.bootID
	o.put(ev.SessionID, func(r *record) { r.started = &ev })
}

func (o *Outbox) Usage(rep schemas.UsageReport) {
	o.put(rep.SessionID, func(r *record) {
		if r.usage == nil || r.usage.Seq < rep.Seq {
			r.usage = &rep
		}
	})
}

func (o *Outbox) Ended(ev schemas.SessionEnded) {
	ev.BootID = o.bootID
	o.put(ev.SessionID, func(r *record) { r.ended = &ev })
}

func (o *Outbox) put(sessionID string, set func(*record)) {
	o.mu.Lock()
	r, ok := o.records[sessionID]
	if !ok {
		o.dropOldestOverLimit()
		r = &record{sessionID: sessionID}
		r.elem = o.order.PushBack(r)
		o.records[sessionID] = r
	}
	set(r)
	o.m.UsagePending.Set(float64(len(o.records)))
	o.mu.Unlock()
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

func (o *Outbox) dropOldestOverLimit() {
	for len(o.records) >= o.limit {
		oldest := o.order.Front().Value.(*record)
		o.remove(oldest)
		o.m.UsageDropped.Inc()
		o.log.Error().Str(logging.FieldSession, oldest.sessionID).Int("limit", o.limit).Msg("pending usage limit reached, dropped the oldest session record")
	}
}

func (o *Outbox) remove(r *record) {
	o.order.Remove(r.elem)
	delete(o.records, r.sessionID)
	o.m.UsagePending.Set(float64(len(o.records)))
}

// Len is the number of sessions with something to publish.
func (o *Outbox) Len() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.records)
}

// oldest returns a copy of the record waiting longest.
func (o *Outbox) oldest() (record, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	front := o.order.Front()
	if front == nil {
		return record{}, false
	}
	return *front.Value.(*record), true
}

// done clears the items of a published copy that were not replaced meanwhile, and moves the
// record behind the others when something newer is left.
func (o *Outbox) done(published record) {
	o.mu.Lock()
	defer o.mu.Unlock()
	r, ok := o.records[published.sessionID]
	if !ok {
		return
	}
	if r.started == published.started {
		r.started = nil
	}
	if r.usage == published.usage {
		r.usage = nil
	}
	if r.ended == published.ended {
		r.ended = nil
	}
	if r.empty() {
		o.remove(r)
		return
	}
	o.order.MoveToBack(r.elem)
}

// clearStarted clears the started event of a session once it is published, so a failure
// later in the same record does not send it again.
func (o *Outbox) clearStarted(sessionID string, ev *schemas.SessionStarted) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if r, ok := o.records[sessionID]; ok && r.started == ev {
		r.started = nil
	}
}

func (o *Outbox) clearUsage(sessionID string, rep *schemas.UsageReport) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if r, ok := o.records[sessionID]; ok && r.usage == rep {
		r.usage = nil
	}
}
