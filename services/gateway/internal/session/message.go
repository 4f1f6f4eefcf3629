package session

import (
	"errors"
	"fmt"
	"io"
)

var errFrameTooLarge = errors.New("frame too large")

// readMessage waits for the next message and reads it into a pooled buffer of the largest
// frame plus one byte, so a session holds no frame buffer while it waits. The caller hands
// buf back with releaseFrame once it is done with msg.
func (srv *Server) readMessage(conn Conn) (kind int, msg []byte, buf *[]byte, err error) {
	kind, r, err := conn.NextReader()
	if err != nil {
		return 0, nil, nil, err
	}
	buf = srv.frames.Get().(*[]byte)
	n, err := io.ReadFull(r, *buf)
	switch {
	case err == nil:
		srv.frames.Put(buf)
		return kind, nil, nil, fmt.Errorf("%w: a frame is larger than %d bytes", errFrameTooLarge, srv.Limits.MaxFrameSize)
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return kind, (*buf)[:n], buf, nil
	default:
		srv.frames.Put(buf)
		return kind, nil, nil, err
	}
}

// helloFirstRead is where the hello's buffer starts: a connection that sent a frame header and
// then stalls holds this much, not the largest hello.
const helloFirstRead = 512

// readHelloMessage reads the first message into a buffer that grows with what arrives, up to
// limit bytes.
func readHelloMessage(conn Conn, limit int) (kind int, msg []byte, err error) {
	kind, r, err := conn.NextReader()
	if err != nil {
		return 0, nil, err
	}
	buf := make([]byte, 0, helloFirstRead)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		switch {
		case len(buf) > limit:
			return kind, nil, fmt.Errorf("%w: a hello is larger than %d bytes", errFrameTooLarge, limit)
		case errors.Is(err, io.EOF):
			return kind, buf, nil
		case err != nil:
			return kind, nil, err
		}
	}
}

func (srv *Server) releaseFrame(buf *[]byte) {
	if buf != nil {
		srv.frames.Put(buf)
	}
}
