package session

import (
	"slices"
	"sync"
	"time"

	"github.com/fasthttp/websocket"
	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/schemas/wire"
)

const (
	controlQueue = 256
	dataQueue    = 64
	keptQueue    = 16
	// inlineWrite: a stream that queues a small frame on an idle writer writes it itself,
	// sparing the hand-off to a writer goroutine; bulk data keeps the writer goroutine, so
	// reading the target and writing the client overlap.
	inlineWrite = 4 << 10
)

// outFrame is a frame for the client: a control frame value, or stream data in a pooled chunk.
type outFrame struct {
	control  any
	streamID uint32
	payload  []byte
	chunk    *[]byte
}

// frameQueue is a FIFO ring of frames that grows on demand.
type frameQueue struct {
	buf  []outFrame
	head int
	n    int
}

func (q *frameQueue) push(f outFrame) {
	if q.n == len(q.buf) {
		grown := make([]outFrame, max(4, 2*len(q.buf)))
		for i := range q.n {
			grown[i] = q.buf[(q.head+i)%len(q.buf)]
		}
		q.buf, q.head = grown, 0
	}
	q.buf[(q.head+q.n)%len(q.buf)] = f
	q.n++
}

func (q *frameQueue) pop() outFrame {
	f := q.buf[q.head]
	q.buf[q.head] = outFrame{}
	q.head = (q.head + 1) % len(q.buf)
	q.n--
	return f
}

// shrink drops a large empty ring, so an idle session keeps no queue memory from a burst.
func (q *frameQueue) shrink() {
	if q.n == 0 && len(q.buf) > keptQueue {
		*q = frameQueue{}
	}
}

// writer owns the write side of the WebSocket. Control frames go before queued data; the
// frames of one stream keep their order because they all travel on the data queue. No
// goroutine waits while nothing is queued: one is started when a frame, a ping or the end of
// the session is due and exits when the queues are empty.
type writer struct {
	s    *Session
	done chan struct{}

	mu      sync.Mutex
	control frameQueue
	data    frameQueue
	pingDue bool
	pings   uint64
	ping    *time.Timer
	open    bool
	active  bool
	closed  bool
	waiting [2][]*waiter
}

// waiter is a sender blocked on a full queue. Like a channel, the writer hands freed slots to
// waiters in arrival order: it queues f and closes queued.
type waiter struct {
	f      outFrame
	queued chan struct{}
	done   bool
}

func newWriter(s *Session) *writer {
	return &writer{s: s, done: make(chan struct{})}
}

// start lets the writer write; frames queued before wait until then.
func (w *writer) start() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.open = true
	w.pingDue = w.s.flow
	w.ping = time.AfterFunc(w.s.srv.Limits.PingInterval, w.onPing)
	w.kick()
}

func (w *writer) onPing() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return
	}
	w.pingDue = true
	w.kick()
	w.ping.Reset(w.s.srv.Limits.PingInterval)
}

// wake starts a goroutine if the session ended, so the writer closes the connection.
func (w *writer) wake() {
	w.mu.Lock()
	w.kick()
	w.mu.Unlock()
}

// kick starts the writing goroutine if there is work and none runs; w.mu is held.
func (w *writer) kick() {
	if !w.open || w.active || w.closed {
		return
	}
	if w.control.n == 0 && w.data.n == 0 && !w.pingDue && w.s.ctx.Err() == nil {
		return
	}
	w.active = true
	go w.run()
}

// wait returns once the writer has closed the connection.
func (w *writer) wait() { <-w.done }

const (
	controlKind = iota
	dataKind
)

// sendControl queues a control frame; false when the session is over.
func (w *writer) sendControl(frame any) bool {
	return w.push(controlKind, outFrame{control: frame})
}

// sendStream queues a frame that must stay in order with the stream's data.
func (w *writer) sendStream(f outFrame) bool {
	if !w.push(dataKind, f) {
		w.s.releaseChunk(f.chunk)
		return false
	}
	return true
}

func (w *writer) queue(kind int) (*frameQueue, int) {
	if kind == controlKind {
		return &w.control, controlQueue
	}
	return &w.data, dataQueue
}

// push queues f, waiting while its queue is full.
func (w *writer) push(kind int, f outFrame) bool {
	w.mu.Lock()
	if w.closed || w.s.ctx.Err() != nil {
		w.mu.Unlock()
		return false
	}
	if q, limit := w.queue(kind); q.n < limit && len(w.waiting[kind]) == 0 {
		q.push(f)
		inline := kind == dataKind && len(f.payload) <= inlineWrite && w.open && !w.active && !w.closed
		if inline {
			w.active = true
		} else {
			w.kick()
		}
		w.mu.Unlock()
		if inline {
			w.run()
		}
		return true
	}
	wt := &waiter{f: f, queued: make(chan struct{})}
	w.waiting[kind] = append(w.waiting[kind], wt)
	w.mu.Unlock()
	select {
	case <-wt.queued:
		return true
	case <-w.s.ctx.Done():
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if wt.done {
		return true
	}
	w.waiting[kind] = slices.DeleteFunc(w.waiting[kind], func(o *waiter) bool { return o == wt })
	return false
}

// refill moves the first waiter of a queue into the slot just freed; w.mu is held.
func (w *writer) refill(kind int) {
	if len(w.waiting[kind]) == 0 {
		return
	}
	wt := w.waiting[kind][0]
	w.waiting[kind][0] = nil
	w.waiting[kind] = w.waiting[kind][1:]
	q, _ := w.queue(kind)
	q.push(wt.f)
	wt.done = true
	close(wt.queued)
}

// next takes the frame to write; ok is false when there is none, and end is true when the
// session is over and the writer must finish. With none to write, the writer stops being
// active only if mayStop: a corked writer must send what it gathered first.
func (w *writer) next(mayStop bool) (f outFrame, ok, end bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case w.control.n > 0:
		f = w.control.pop()
		w.refill(controlKind)
		return f, true, false
	case w.s.ctx.Err() != nil:
		return f, false, true
	case w.pingDue:
		w.pingDue = false
		w.pings++
		w.s.rtt.ping(w.pings, time.Now())
		return outFrame{control: schemas.Ping{ID: w.pings}}, true, false
	case w.data.n > 0:
		f = w.data.pop()
		w.refill(dataKind)
		return f, true, false
	}
	if !mayStop {
		return f, false, false
	}
	w.active = false
	w.control.shrink()
	w.data.shrink()
	return f, false, false
}

// run writes queued frames until none is left. While frames follow each other the connection
// is corked, so a burst of frames leaves in few system calls and a lone frame at once.
func (w *writer) run() {
	buf := w.s.srv.scratch.Get().(*[]byte)
	defer w.s.srv.scratch.Put(buf)
	cork, corked := w.s.cork, false
	for {
		f, ok, end := w.next(!corked)
		var err error
		switch {
		case corked && (end || !ok):
			corked = false
			if err = cork.Uncork(); err == nil && !end {
				continue
			}
		case end:
			w.finish()
			return
		case !ok:
			return
		default:
			if cork != nil && !corked {
				cork.Cork()
				corked = true
			}
			err = w.write(f, buf)
		}
		if err != nil || end {
			if corked {
				_ = cork.Uncork()
			}
			if err != nil {
				w.s.terminate(ending{reason: schemas.EndReasonClientClosed, message: "write: " + err.Error()})
			}
			w.finish()
			return
		}
	}
}

func (w *writer) write(f outFrame, scratch *[]byte) error {
	_ = w.s.conn.SetWriteDeadline(time.Now().Add(w.s.srv.Limits.WriteTimeout))
	if win, ok := f.control.(schemas.StreamWindow); ok && w.s.binary {
		*scratch = wire.AppendBinaryStreamWindow((*scratch)[:0], win.StreamID, win.Credit)
		return w.s.conn.WriteMessage(binaryMessage, *scratch)
	}
	if d, ok := f.control.(schemas.UDPData); ok {
		return w.writeDatagram(d, scratch)
	}
	if f.control != nil {
		msg, err := wire.AppendJSON((*scratch)[:0], f.control)
		if err != nil {
			return err
		}
		*scratch = msg
		return w.s.conn.WriteMessage(textMessage, msg)
	}
	defer w.s.releaseChunk(f.chunk)
	if err := w.writeData(f, scratch); err != nil {
		return err
	}
	w.s.usage.AddDown(len(f.payload))
	return nil
}

// deliverQueued writes a queued stream chunk or datagram within the deadline already set.
func (w *writer) deliverQueued(f outFrame, scratch *[]byte) error {
	if d, ok := f.control.(schemas.UDPData); ok {
		return w.writeDatagram(d, scratch)
	}
	if f.control != nil {
		return nil
	}
	if err := w.writeData(f, scratch); err != nil {
		return err
	}
	w.s.usage.AddDown(len(f.payload))
	return nil
}

func (w *writer) writeData(f outFrame, scratch *[]byte) error {
	if !w.s.binary {
		*scratch = wire.AppendStreamDataJSON((*scratch)[:0], f.streamID, f.payload)
		return w.s.conn.WriteMessage(textMessage, *scratch)
	}
	mw, err := w.s.conn.NextWriter(binaryMessage)
	if err != nil {
		return err
	}
	header := wire.BinaryStreamDataHeader(f.streamID)
	if _, err := mw.Write(header[:]); err != nil {
		return err
	}
	if _, err := mw.Write(f.payload); err != nil {
		return err
	}
	return mw.Close()
}

// finish sends the session's error frame, if one is due, closes the WebSocket and drops what
// is still queued; a session ended by its traffic quota first delivers the queued data, which
// the quota already paid for.
func (w *writer) finish() {
	defer close(w.done)
	w.mu.Lock()
	w.closed, w.active = true, false
	w.ping.Stop()
	data := w.data
	w.control, w.data = frameQueue{}, frameQueue{}
	w.mu.Unlock()
	e := w.s.end.Load()
	deadline := time.Now().Add(w.s.srv.Limits.WriteTimeout)
	_ = w.s.conn.SetWriteDeadline(deadline)
	deliver := e != nil && e.code == schemas.CodeLimitReached && e.limit == schemas.LimitTraffic
	var scratch []byte
	for data.n > 0 {
		f := data.pop()
		if deliver {
			deliver = w.deliverQueued(f, &scratch) == nil
		}
		w.s.releaseChunk(f.chunk)
	}
	closeCode, closeText := websocket.CloseNormalClosure, ""
	if e != nil && e.code != "" {
		msg, _ := wire.AppendJSON(nil, schemas.ErrorFrame{Code: e.code, Limit: e.limit, Message: e.message})
		_ = w.s.conn.WriteMessage(textMessage, msg)
		closeCode, closeText = websocket.ClosePolicyViolation, string(e.code)
	}
	_ = w.s.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(closeCode, closeText), deadline)
	w.s.conn.Close()
}
