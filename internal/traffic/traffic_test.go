package traffic

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"testing"
)

// trafficSHA256 is the hash of seed 1's first batch of 500. A change to the
// traffic model changes it: update internal/flow/bench_test.go's copy and
// its TestBenchTraffic too, so the benchmark and lfload stay in step.
const trafficSHA256 = "46068a7e32b0b81ddc9f7b91e1ed3ccd17b546cb9c7ad545b4fe2238f60e0e22"

// TestTraffic checks that a seed gives the same bytes and that messages
// are valid JSON of the advertised size with unique message ids.
func TestTraffic(t *testing.T) {
	t.Parallel()
	if sum := sha256.Sum256(New(1).Batch(nil, 500)); hex.EncodeToString(sum[:]) != trafficSHA256 {
		t.Errorf("seed 1 gives %x; if the model changed on purpose, update trafficSHA256 here and in internal/flow/bench_test.go", sum)
	}
	a, b := New(7).Batch(nil, 500), New(7).Batch(nil, 500)
	if !bytes.Equal(a, b) {
		t.Fatal("the same seed gave different payloads")
	}
	if bytes.Equal(a, New(8).Batch(nil, 500)) {
		t.Fatal("different seeds gave the same payload")
	}
	var body struct {
		Batch []struct {
			Type      string `json:"type"`
			MessageID string `json:"messageId"`
		} `json:"batch"`
	}
	if err := json.Unmarshal(a, &body); err != nil || len(body.Batch) != 500 {
		t.Fatalf("decode: %v (%d messages)", err, len(body.Batch))
	}
	ids, types := map[string]bool{}, map[string]int{}
	for _, m := range body.Batch {
		ids[m.MessageID] = true
		types[m.Type]++
	}
	if len(ids) != 500 || types["page"] == 0 || types["track"] == 0 || types["identify"] == 0 {
		t.Errorf("%d distinct ids, types %v", len(ids), types)
	}
	if per := len(a) / 500; per < 600 || per > 750 {
		t.Errorf("%d bytes per message, want about 650", per)
	}
}
