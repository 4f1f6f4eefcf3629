package httvps

// MetricsAddr is where /metrics of every service of this process is served ("" when off).
func (sys *System) MetricsAddr() string {
	if sys.metrics == nil {
		return ""
	}
	return sys.metrics.Addr
}
