package store

// SetSearchMaxCandidates changes how many leads the trigram index may hand
// to the lead list, until the returned function restores it.
func SetSearchMaxCandidates(n int) (restore func()) {
	prev := searchMaxCandidates
	searchMaxCandidates = n
	return func() { searchMaxCandidates = prev }
}
