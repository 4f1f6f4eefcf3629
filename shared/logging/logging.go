// Package logging builds the zerolog JSON loggers of every service.
package logging

import (
	"fmt"
	"io"
	"time"

	"github.com/rs/zerolog"
)

const (
	FieldService   = "service"
	FieldGateway   = "gateway_id"
	FieldSession   = "session_id"
	FieldStream    = "stream_id"
	FieldUser      = "user_id"
	FieldDevice    = "device_id"
	FieldNode      = "outline_node_id"
	FieldRegion    = "region"
	FieldSubject   = "subject"
	FieldCode      = "code"
	FieldReason    = "reason"
	FieldAddr      = "addr"
	FieldDuration  = "duration"
	FieldCount     = "count"
	FieldComponent = "component"
	FieldBoot      = "boot_id"
)

func New(level string, w io.Writer) (zerolog.Logger, error) {
	lvl, err := zerolog.ParseLevel(level)
	if err != nil || level == "" {
		return zerolog.Nop(), fmt.Errorf("log level %q: want trace, debug, info, warn or error", level)
	}
	zerolog.TimeFieldFormat = time.RFC3339Nano
	return zerolog.New(w).Level(lvl).With().Timestamp().Logger(), nil
}

func For(log zerolog.Logger, service string) zerolog.Logger {
	return log.With().Str(FieldService, service).Logger()
}
