package wire

import (
	"fmt"

	"github.com/httvps/httvps/schemas"
)

// Error is a frame that could not be decoded. When Stream is true the fault is confined to the
// stream StreamID; otherwise the whole message (and so the session) is at fault.
type Error struct {
	Code     schemas.ErrorCode
	Limit    schemas.LimitKind
	StreamID uint32
	Stream   bool
	Message  string
}

func (e *Error) Error() string {
	if e.Stream {
		return fmt.Sprintf("%s: stream %d: %s", e.Code, e.StreamID, e.Message)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func protocolError(format string, args ...any) *Error {
	return &Error{Code: schemas.CodeProtocolError, Message: fmt.Sprintf(format, args...)}
}

func streamError(id uint32, format string, args ...any) *Error {
	return &Error{Code: schemas.CodeProtocolError, StreamID: id, Stream: true, Message: fmt.Sprintf(format, args...)}
}
