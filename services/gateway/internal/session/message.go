package session

import (
	"errors"
	"fmt"
	"io"
	"sync"
)

var errFrameTooLarge = errors.New("frame too large")

// readMessage waits for the next message and reads it into a buffer from pool, one byte larger
// than the largest message accepted, so a session holds no frame buffer while it waits. The
// caller hands buf back with release once it is done with msg.
func (srv *Server) readMessage(conn Conn, pool *sync.Pool) (kind int, msg []byte, buf *[]byte, err error) {
	kind, r, err := conn.NextReader()
	if err != nil {
		return 0, nil, nil, err
	}
	buf = pool.Get().(*[]byte)
	n, err := io.ReadFull(r, *buf)
	switch {
	case err == nil:
		pool.Put(buf)
		return kind, nil, nil, fmt.Errorf("%w: a frame is larger than %d bytes", errFrameTooLarge, len(*buf)-1)
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return kind, (*buf)[:n], buf, nil
	default:
		pool.Put(buf)
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

func release(pool *sync.Pool, buf *[]byte) {
	if buf != nil {
		pool.Put(buf)
	}
}
