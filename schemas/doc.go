// Package schemas holds the wire contracts of HTTVPS: NATS subjects, message types, HTTVPS
// frames and error codes, each backed by a JSON Schema document under jsonschema/.
package schemas
