package gen_test

import (
	"fmt"
	"time"

	"github.com/leadflow/leadflow/internal/gen"
)

// Generate streams the demo company lead by lead; emit copies what it keeps.
func ExampleGenerate() {
	cfg := gen.DemoConfig(time.Date(2025, 3, 31, 0, 0, 0, 0, time.UTC))
	leads, events, sql := 0, 0, 0
	err := gen.Generate(cfg, func(rec *gen.Record) error {
		leads++
		events += len(rec.Events)
		if rec.Outcome.SQLAt != nil {
			sql++
		}
		return nil
	})
	fmt.Println(leads, events, sql > 0, err)
	// Output: 3000 60000 true <nil>
}
