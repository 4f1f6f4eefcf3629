package session

import (
	"errors"
	"fmt"
	"io"
)

var errFrameTooLarge = errors.New("frame too large")

// readMessage reads the next message into buf, whose length is the largest frame plus one.
func readMessage(conn Conn, buf []byte) (int, []byte, error) {
	kind, r, err := conn.NextReader()
	if err != nil {
		return 0, nil, err
	}
	n, err := io.ReadFull(r, buf)
	switch {
	case err == nil:
		return kind, nil, fmt.Errorf("%w: a frame is larger than %d bytes", errFrameTooLarge, len(buf)-1)
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return kind, buf[:n], nil
	default:
		return kind, nil, err
	}
}
