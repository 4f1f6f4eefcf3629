package wire

import (
	"bytes"
	"encoding/base64"
	"strconv"

	"github.com/httvps/httvps/schemas"
)

var (
	streamDataPrefix  = []byte(`{"type":"stream_data","stream_id":`)
	streamDataPayload = []byte(`,"payload":"`)
	streamDataSuffix  = []byte(`"}`)
)

// StreamDataJSONOverhead is the size of a JSON stream_data message around its base64 payload,
// with the longest stream id.
const StreamDataJSONOverhead = len(`{"type":"stream_data","stream_id":4294967295,"payload":""}`)

// MaxStreamDataPayload is the largest payload whose stream_data frame fits in frameSize bytes
// in the given encoding.
func MaxStreamDataPayload(frameSize int, binary bool) int {
	if binary {
		return frameSize - BinaryHeaderSize
	}
	return (frameSize - StreamDataJSONOverhead) / 4 * 3
}

// AppendStreamDataJSON appends {"type":"stream_data","stream_id":N,"payload":"<base64>"}.
func AppendStreamDataJSON(dst []byte, streamID uint32, payload []byte) []byte {
	dst = append(dst, streamDataPrefix...)
	dst = strconv.AppendUint(dst, uint64(streamID), 10)
	dst = append(dst, streamDataPayload...)
	dst = base64.StdEncoding.AppendEncode(dst, payload)
	return append(dst, streamDataSuffix...)
}

// decodeStreamDataFast decodes the canonical form written by AppendStreamDataJSON (surrounding
// white space allowed). ok is false when msg has any other shape; the caller then falls back
// to encoding/json, which also produces the error for malformed input.
func decodeStreamDataFast(msg []byte) (frame schemas.StreamData, ok bool, err error) {
	msg = bytes.TrimSpace(msg)
	rest, found := bytes.CutPrefix(msg, streamDataPrefix)
	if !found {
		return frame, false, nil
	}
	digits := 0
	for digits < len(rest) && digits < 11 && rest[digits] >= '0' && rest[digits] <= '9' {
		digits++
	}
	if digits == 0 || (digits > 1 && rest[0] == '0') {
		return frame, false, nil
	}
	id, perr := strconv.ParseUint(string(rest[:digits]), 10, 32)
	if perr != nil {
		return frame, false, nil
	}
	rest, found = bytes.CutPrefix(rest[digits:], streamDataPayload)
	if !found {
		return frame, false, nil
	}
	encoded, found := bytes.CutSuffix(rest, streamDataSuffix)
	if !found || bytes.IndexByte(encoded, '"') >= 0 || bytes.IndexByte(encoded, '\\') >= 0 {
		return frame, false, nil
	}
	frame = schemas.StreamData{Type: schemas.FrameStreamData, StreamID: uint32(id)}
	if id == 0 {
		return frame, true, protocolError("stream_data names stream 0")
	}
	payload, derr := decodePayload(uint32(id), encoded)
	if derr != nil {
		return frame, true, derr
	}
	frame.Payload = payload
	return frame, true, nil
}

func decodePayload(id uint32, encoded []byte) ([]byte, error) {
	payload := make([]byte, base64.StdEncoding.DecodedLen(len(encoded)))
	n, err := base64.StdEncoding.Decode(payload, encoded)
	if err != nil {
		return nil, streamError(id, "stream_data payload is not valid base64: %v", err)
	}
	return payload[:n], nil
}
