package leadflow

import "time"

// Time is time.Time; the alias keeps domain structs short.
type Time = time.Time
