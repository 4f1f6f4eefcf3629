package config

const (
	EnvMode         = "HTTVPS_ENV"
	ModeProduction  = "production"
	ModeDevelopment = "development"
)

// Production reports whether HTTVPS_ENV is production, the default of every binary but the
// all-in-one httvps; production refuses development settings (see Secret and the services' checks).
func (e *Env) Production() bool {
	if e.mode == "" {
		e.mode = e.OneOf(EnvMode, e.defaultMode, ModeProduction, ModeDevelopment)
	}
	return e.mode == ModeProduction
}

// Refuse records a production refusal: one line naming the variable, never its value.
func (e *Env) Refuse(name, format string, args ...any) {
	e.Failf(name, "refused in production ("+EnvMode+"="+ModeProduction+"): "+format, args...)
}
