package wire_test

import (
	"crypto/rand"
	"encoding/json"
	"testing"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/schemas/wire"
)

const benchPayload = 16 << 10

func benchData(b *testing.B) []byte {
	p := make([]byte, benchPayload)
	if _, err := rand.Read(p); err != nil {
		b.Fatal(err)
	}
	return p
}

func BenchmarkEncodeStreamData(b *testing.B) {
	payload := benchData(b)
	b.Run("json_fast", func(b *testing.B) {
		buf := make([]byte, 0, 2*benchPayload)
		b.SetBytes(benchPayload)
		for b.Loop() {
			buf = wire.AppendStreamDataJSON(buf[:0], 42, payload)
		}
	})
	b.Run("json_stdlib", func(b *testing.B) {
		b.SetBytes(benchPayload)
		for b.Loop() {
			if _, err := json.Marshal(schemas.StreamData{Type: schemas.FrameStreamData, StreamID: 42, Payload: payload}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("binary", func(b *testing.B) {
		buf := make([]byte, 0, 2*benchPayload)
		b.SetBytes(benchPayload)
		for b.Loop() {
			buf = wire.AppendBinaryStreamData(buf[:0], 42, payload)
		}
	})
}

func BenchmarkDecodeStreamData(b *testing.B) {
	payload := benchData(b)
	canonical := wire.AppendStreamDataJSON(nil, 42, payload)
	binaryMsg := wire.AppendBinaryStreamData(nil, 42, payload)
	b.Run("json_fast", func(b *testing.B) {
		b.SetBytes(benchPayload)
		for b.Loop() {
			if _, err := wire.DecodeText(canonical); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("json_stdlib", func(b *testing.B) {
		b.SetBytes(benchPayload)
		for b.Loop() {
			var f schemas.StreamData
			if err := json.Unmarshal(canonical, &f); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("binary", func(b *testing.B) {
		b.SetBytes(benchPayload)
		for b.Loop() {
			if _, err := wire.DecodeBinary(binaryMsg); err != nil {
				b.Fatal(err)
			}
		}
	})
}
