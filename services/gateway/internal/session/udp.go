package session

import (
	"slices"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/schemas/wire"
	"github.com/httvps/httvps/services/gateway/internal/udp"
	"github.com/httvps/httvps/services/gateway/internal/upstream"
)

func (s *Session) wantsUDP() bool { return slices.Contains(s.features, schemas.FeatureUDP) }

// startUDP sets up the UDP relay when the client asked for udp.
func (s *Session) startUDP() {
	if !s.wantsUDP() {
		return
	}
	s.udp = udp.New(s.ctx, udp.Deps{
		Limits:  s.srv.Limits.UDP,
		Policy:  s.srv.Policy,
		Node:    func() *upstream.Node { return s.nodes.Current() },
		Usage:   s.usage,
		Charge:  s.chargeDatagram,
		Metrics: s.srv.Metrics,
		Sink:    udpSink{s},
		Log:     s.srv.Log,
	})
}

func (s *Session) closeUDP() {
	if s.udp != nil {
		s.udp.Shutdown()
	}
}

func (s *Session) udpLimits(l *schemas.SessionLimits) {
	if !s.wantsUDP() {
		return
	}
	u := s.srv.Limits.UDP
	l.MaxFlows, l.MaxDatagram, l.UDPRate = u.MaxFlows, u.MaxDatagram, u.Rate
	l.UDPIdleMS = int(u.IdleTimeout.Milliseconds())
}

func (s *Session) onUDP(frame any) (ending, bool) {
	if s.udp == nil {
		return protocolEnding("udp frames without udp negotiated in hello"), true
	}
	switch f := frame.(type) {
	case schemas.UDPData:
		s.udp.Send(f)
	case schemas.UDPClose:
		s.udp.Close(f.FlowID)
	}
	return ending{}, false
}

// udpSink hands the relay's frames to the writer: a datagram is written at once by the flow's
// reader when the writer is idle, else copied into the queue, and dropped when that is full.
type udpSink struct{ s *Session }

func (k udpSink) Datagram(flowID uint32, source string, payload []byte) bool {
	d := schemas.UDPData{FlowID: flowID, Addr: source, Payload: payload}
	if k.s.out.datagramNow(d) {
		return true
	}
	d.Payload = append([]byte(nil), payload...)
	return k.s.out.offer(outFrame{control: d})
}

func (k udpSink) Closed(flowID uint32, code schemas.ErrorCode, limit schemas.LimitKind, message string) {
	k.s.out.sendControl(schemas.UDPClose{FlowID: flowID, Code: code, Limit: limit, Message: message})
}

func (k udpSink) Refused(flowID uint32, code schemas.ErrorCode, limit schemas.LimitKind, message string) {
	id := flowID
	k.s.out.sendControl(schemas.ErrorFrame{Code: code, FlowID: &id, Limit: limit, Message: message})
}

// offer queues a datagram frame unless the data queue is full: UDP is dropped, never waited for.
func (w *writer) offer(f outFrame) bool {
	w.mu.Lock()
	q, limit := w.queue(dataKind)
	full := q.n >= limit || len(w.waiting[dataKind]) > 0
	w.mu.Unlock()
	return !full && w.push(dataKind, f)
}

// datagramNow writes d on the caller's goroutine if the writer is idle, sparing the hand-off
// to a writer goroutine and the copy into the queue; a lone datagram is one TLS record, written
// uncorked. Frames queued meanwhile are written before it returns. false: the writer is busy.
func (w *writer) datagramNow(d schemas.UDPData) bool {
	w.mu.Lock()
	idle := w.open && !w.active && !w.closed && w.s.ctx.Err() == nil && w.control.n == 0 && w.data.n == 0 && !w.pingDue
	w.active = w.active || idle
	w.mu.Unlock()
	if !idle {
		return false
	}
	buf := w.s.srv.scratch.Get().(*[]byte)
	_ = w.s.conn.SetWriteDeadline(time.Now().Add(w.s.srv.Limits.WriteTimeout))
	err := w.writeDatagram(d, buf)
	w.s.srv.scratch.Put(buf)
	if err != nil {
		w.s.terminate(ending{reason: schemas.EndReasonClientClosed, message: "write: " + err.Error()})
		w.finish()
		return true
	}
	w.run()
	return true
}

func (w *writer) writeDatagram(d schemas.UDPData, scratch *[]byte) error {
	var err error
	kind := textMessage
	if w.s.binary {
		kind = binaryMessage
		*scratch, err = wire.AppendBinaryUDPData((*scratch)[:0], d.FlowID, d.Addr, d.Payload)
	} else {
		*scratch, err = wire.AppendJSON((*scratch)[:0], d)
	}
	if err != nil {
		return err
	}
	if err := w.s.conn.WriteMessage(kind, *scratch); err != nil {
		return err
	}
	w.s.usage.AddDown(len(d.Payload))
	return nil
}
