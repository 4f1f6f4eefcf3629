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

func (srv *Server) releaseFrame(buf *[]byte) {
	if buf != nil {
		srv.frames.Put(buf)
	}
}
