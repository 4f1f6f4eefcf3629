package session

import (
	"time"

	"github.com/fasthttp/websocket"
	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/schemas/wire"
)

const (
	controlQueue = 256
	dataQueue    = 64
)

// outFrame is a frame for the client: a control frame value, or stream data in a pooled chunk.
type outFrame struct {
	control  any
	streamID uint32
	payload  []byte
	chunk    *[]byte
}

// writer owns the write side of the WebSocket. Control frames go before queued data; the
// frames of one stream keep their order because they all travel on the data queue.
type writer struct {
	s       *Session
	control chan outFrame
	data    chan outFrame
	scratch []byte
	pings   uint64
}

func newWriter(s *Session) *writer {
	return &writer{s: s, control: make(chan outFrame, controlQueue), data: make(chan outFrame, dataQueue)}
}

// sendControl queues a control frame; false when the session is over.
func (w *writer) sendControl(frame any) bool {
	select {
	case w.control <- outFrame{control: frame}:
		return true
	case <-w.s.ctx.Done():
		return false
	}
}

// sendStream queues a frame that must stay in order with the stream's data.
func (w *writer) sendStream(f outFrame) bool {
	select {
	case w.data <- f:
		return true
	case <-w.s.ctx.Done():
		w.s.srv.releaseChunk(f.chunk)
		return false
	}
}

func (w *writer) run() {
	ping := time.NewTicker(w.s.srv.Limits.PingInterval)
	defer ping.Stop()
	for {
		var f outFrame
		select {
		case f = <-w.control:
		default:
			select {
			case <-w.s.ctx.Done():
				w.finish()
				return
			case f = <-w.control:
			case f = <-w.data:
			case <-ping.C:
				w.pings++
				f = outFrame{control: schemas.Ping{ID: w.pings}}
			}
		}
		if err := w.write(f); err != nil {
			w.s.terminate(ending{reason: schemas.EndReasonClientClosed, message: "write: " + err.Error()})
			w.finish()
			return
		}
	}
}

func (w *writer) write(f outFrame) error {
	_ = w.s.conn.SetWriteDeadline(time.Now().Add(w.s.srv.Limits.WriteTimeout))
	if win, ok := f.control.(schemas.StreamWindow); ok && w.s.binary {
		w.scratch = wire.AppendBinaryStreamWindow(w.scratch[:0], win.StreamID, win.Credit)
		return w.s.conn.WriteMessage(binaryMessage, w.scratch)
	}
	if f.control != nil {
		msg, err := wire.AppendJSON(w.scratch[:0], f.control)
		if err != nil {
			return err
		}
		w.scratch = msg
		return w.s.conn.WriteMessage(textMessage, msg)
	}
	defer w.s.srv.releaseChunk(f.chunk)
	if err := w.writeData(f); err != nil {
		return err
	}
	w.s.usage.AddDown(len(f.payload))
	return nil
}

func (w *writer) writeData(f outFrame) error {
	if !w.s.binary {
		w.scratch = wire.AppendStreamDataJSON(w.scratch[:0], f.streamID, f.payload)
		return w.s.conn.WriteMessage(textMessage, w.scratch)
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
// is still queued.
func (w *writer) finish() {
	e := w.s.end.Load()
	deadline := time.Now().Add(w.s.srv.Limits.WriteTimeout)
	_ = w.s.conn.SetWriteDeadline(deadline)
	closeCode, closeText := websocket.CloseNormalClosure, ""
	if e != nil && e.code != "" {
		msg, _ := wire.AppendJSON(nil, schemas.ErrorFrame{Code: e.code, Limit: e.limit, Message: e.message})
		_ = w.s.conn.WriteMessage(textMessage, msg)
		closeCode, closeText = websocket.ClosePolicyViolation, string(e.code)
	}
	_ = w.s.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(closeCode, closeText), deadline)
	w.s.conn.Close()
	for {
		select {
		case f := <-w.data:
			w.s.srv.releaseChunk(f.chunk)
		default:
			return
		}
	}
}
