package wire_test

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/schemas/wire"
)

func mustUDP(t *testing.T, id uint32, addr string, p []byte) []byte {
	t.Helper()
	msg, err := wire.AppendBinaryUDPData(nil, id, addr, p)
	if err != nil {
		t.Fatal(err)
	}
	return msg
}

func TestBinaryUDPData(t *testing.T) {
	tests := []struct {
		name string
		addr string
		want []byte
	}{
		{"ipv4", "1.2.3.4:53", []byte{3, 0, 0, 0, 9, 1, 1, 2, 3, 4, 0, 53, 'h', 'i'}},
		{"name", "ab.c:443", []byte{3, 0, 0, 0, 9, 3, 4, 'a', 'b', '.', 'c', 1, 187, 'h', 'i'}},
		{"ipv6", "[::1]:80", append(append([]byte{3, 0, 0, 0, 9, 4}, make([]byte, 15)...), 1, 0, 80, 'h', 'i')},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := mustUDP(t, 9, tt.addr, []byte("hi"))
			if !bytes.Equal(msg, tt.want) {
				t.Fatalf("encoded % x, want % x", msg, tt.want)
			}
			got, err := wire.DecodeBinary(msg)
			want := schemas.UDPData{Type: schemas.FrameUDPData, FlowID: 9, Addr: tt.addr, Payload: []byte("hi")}
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Fatalf("decoded %#v, %v; want %#v", got, err, want)
			}
		})
	}
}

func TestBadUDPFrames(t *testing.T) {
	tests := []struct {
		name    string
		binary  []byte
		text    string
		errText string
	}{
		{"binary without address", []byte{3, 0, 0, 0, 1}, "", "no address"},
		{"binary short ipv4", []byte{3, 0, 0, 0, 1, 1, 1, 2}, "", "cut short"},
		{"binary empty name", []byte{3, 0, 0, 0, 1, 3, 0, 0, 53}, "", "empty"},
		{"binary unknown atyp", []byte{3, 0, 0, 0, 1, 7, 0, 0}, "", "0x07"},
		{"binary port 0", []byte{3, 0, 0, 0, 1, 1, 1, 2, 3, 4, 0, 0}, "", "port 0"},
		{"binary flow 0", []byte{3, 0, 0, 0, 0, 1, 1, 2, 3, 4, 0, 53}, "", "0"},
		{"json flow 0", nil, `{"type":"udp_data","flow_id":0,"addr":"1.2.3.4:53","payload":""}`, "no flow_id"},
		{"json no addr", nil, `{"type":"udp_data","flow_id":1,"payload":""}`, "not host:port"},
		{"json port 0", nil, `{"type":"udp_data","flow_id":1,"addr":"1.2.3.4:0","payload":""}`, "port from 1"},
		{"json bad base64", nil, `{"type":"udp_data","flow_id":1,"addr":"1.2.3.4:53","payload":"!!"}`, "malformed"},
		{"json close flow 0", nil, `{"type":"udp_close"}`, "no flow_id"},
		{"binary name not UTF-8", []byte{3, 0, 0, 0, 1, 3, 2, 0xff, 'a', 0, 53}, "", "letters, digits"},
		{"binary name with a space", []byte{3, 0, 0, 0, 1, 3, 3, 'a', ' ', 'b', 0, 53}, "", "letters, digits"},
		{"binary name with a control byte", []byte{3, 0, 0, 0, 1, 3, 2, 'a', '\n', 0, 53}, "", "letters, digits"},
		{"binary name with a bracket", []byte{3, 0, 0, 0, 1, 3, 3, '0', '0', '[', 0x30, 0x30}, "", "letters, digits"},
		{"binary name with a colon", []byte{3, 0, 0, 0, 1, 3, 3, 'a', ':', 'b', 0, 53}, "", "letters, digits"},
		{"json name not ASCII", nil, `{"type":"udp_data","flow_id":1,"addr":"bücher.example:53","payload":""}`, "punycode"},
		{"json name with a slash", nil, `{"type":"udp_data","flow_id":1,"addr":"a/b:53","payload":""}`, "punycode"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			if tt.binary != nil {
				_, err = wire.DecodeBinary(tt.binary)
			} else {
				_, err = wire.DecodeText([]byte(tt.text))
			}
			var we *wire.Error
			if !errors.As(err, &we) || we.Code != schemas.CodeProtocolError || we.Stream || !strings.Contains(we.Message, tt.errText) {
				t.Fatalf("err = %v, want a session-level PROTOCOL_ERROR containing %q", err, tt.errText)
			}
		})
	}
}

func TestMaxDatagramPayloadFits(t *testing.T) {
	for _, size := range []int{4096, 65536} {
		n := wire.MaxDatagramPayload(size)
		addr := strings.Repeat("a", 255) + ":65535"
		msg, err := wire.AppendJSON(nil, schemas.UDPData{FlowID: 4294967295, Addr: addr, Payload: make([]byte, n)})
		if err != nil || len(msg) > size {
			t.Fatalf("size %d: payload %d gives %d bytes (%v)", size, n, len(msg), err)
		}
	}
}
