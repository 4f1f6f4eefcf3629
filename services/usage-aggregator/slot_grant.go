package usageaggregator

// grantSize decides one lease. available is what remains of the quota after every lease, live is
// the number of the user's live sessions (the asking one included): when little remains it is
// shared, so one session's lease never starves the others, and pieces never fall below min unless
// less than min is left.
func grantSize(want, available, min int64, live int) int64 {
	if want <= 0 || available <= 0 {
		return 0
	}
	share := available / int64(max(live, 1))
	grant := max(share, min)
	return max(0, minOf(grant, want, available))
}

func minOf(a, b, c int64) int64 { return min(a, min(b, c)) }
