package wire

import (
	"encoding/binary"

	"github.com/httvps/httvps/schemas"
)

// BinaryType is the first byte of a binary message.
type BinaryType byte

const (
	BinaryStreamData   BinaryType = 0x01
	BinaryStreamWindow BinaryType = 0x02
)

// BinaryHeaderSize is the type byte plus the big-endian stream id.
const BinaryHeaderSize = 5

const creditSize = 4

// AppendBinaryStreamData appends a binary stream_data message: 0x01, stream id, raw payload.
func AppendBinaryStreamData(dst []byte, streamID uint32, payload []byte) []byte {
	dst = appendBinaryHeader(dst, BinaryStreamData, streamID)
	return append(dst, payload...)
}

// AppendBinaryStreamWindow appends a binary stream_window message: 0x02, stream id, credit.
func AppendBinaryStreamWindow(dst []byte, streamID, credit uint32) []byte {
	dst = appendBinaryHeader(dst, BinaryStreamWindow, streamID)
	return binary.BigEndian.AppendUint32(dst, credit)
}

// BinaryStreamDataHeader is the header of a binary stream_data message, for writers that send
// the header and the payload separately.
func BinaryStreamDataHeader(streamID uint32) [BinaryHeaderSize]byte {
	var h [BinaryHeaderSize]byte
	h[0] = byte(BinaryStreamData)
	binary.BigEndian.PutUint32(h[1:], streamID)
	return h
}

func appendBinaryHeader(dst []byte, t BinaryType, streamID uint32) []byte {
	dst = append(dst, byte(t))
	return binary.BigEndian.AppendUint32(dst, streamID)
}

// DecodeBinary decodes a binary message. The payload of a stream_data frame aliases msg.
func DecodeBinary(msg []byte) (any, error) {
	if len(msg) < BinaryHeaderSize {
		return nil, protocolError("binary message of %d bytes is shorter than its %d-byte header", len(msg), BinaryHeaderSize)
	}
	id := binary.BigEndian.Uint32(msg[1:BinaryHeaderSize])
	if id == 0 {
		return nil, protocolError("binary message names stream 0 (or flow 0)")
	}
	body := msg[BinaryHeaderSize:]
	switch BinaryType(msg[0]) {
	case BinaryStreamData:
		return schemas.StreamData{Type: schemas.FrameStreamData, StreamID: id, Payload: body}, nil
	case BinaryStreamWindow:
		if len(body) != creditSize {
			return nil, streamError(id, "binary stream_window carries %d bytes of credit, want %d", len(body), creditSize)
		}
		credit := binary.BigEndian.Uint32(body)
		if credit == 0 {
			return nil, streamError(id, "stream_window credit must be positive")
		}
		return schemas.StreamWindow{Type: schemas.FrameStreamWindow, StreamID: id, Credit: credit}, nil
	case BinaryUDPData:
		return decodeBinaryUDPData(id, body)
	default:
		return nil, protocolError("unknown binary frame type 0x%02x", msg[0])
	}
}
