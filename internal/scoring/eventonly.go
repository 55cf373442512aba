package scoring

// EventOnly reports whether every behavior rule reads the event alone (no
// lead field, not the lead as a whole): an event's hits then depend on
// its own fields only, so a bulk reader that sees the same (type, name,
// properties.path) many times may match it once and reuse the hits with
// each event's id and time (Hit.EventID, Hit.At).
func (m *Model) EventOnly() bool {
	for _, r := range m.behavior {
		rf := ruleRefs(r)
		if rf.whole {
			return false
		}
		for _, segs := range rf.paths {
			if segs[0] != "event" {
				return false
			}
		}
	}
	return true
}
