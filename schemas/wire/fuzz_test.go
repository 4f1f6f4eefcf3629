package wire_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/schemas/wire"
)

func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"type":"stream_data","stream_id":13,"payload":"aGVsbG8="}`), false)
	f.Add([]byte(`{"type":"hello","device_id":"d","access_token":"t","region":"eu-1","features":["binary"]}`), false)
	f.Add(wire.AppendBinaryStreamData(nil, 3, []byte("payload")), true)
	f.Fuzz(func(t *testing.T, msg []byte, binary bool) {
		var frame any
		var err error
		if binary {
			frame, err = wire.DecodeBinary(msg)
		} else {
			frame, err = wire.DecodeText(msg)
		}
		if err != nil {
			var we *wire.Error
			if !errors.As(err, &we) || we.Code != schemas.CodeProtocolError || we.Message == "" {
				t.Fatalf("error %v is not a PROTOCOL_ERROR *wire.Error", err)
			}
			if frame != nil {
				t.Fatalf("error %v came with frame %#v", err, frame)
			}
			return
		}
		encoded, err := wire.AppendJSON(nil, frame)
		if err != nil {
			t.Fatalf("re-encode %#v: %v", frame, err)
		}
		again, err := wire.DecodeText(encoded)
		if err != nil {
			t.Fatalf("decode of re-encoded %s: %v", encoded, err)
		}
		reencoded, err := wire.AppendJSON(nil, again)
		if err != nil {
			t.Fatalf("re-encode %#v: %v", again, err)
		}
		if !bytes.Equal(encoded, reencoded) {
			t.Fatalf("round trip changed the frame: %s became %s", encoded, reencoded)
		}
	})
}
