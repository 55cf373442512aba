// Command lfload measures leadflow's ingestion from the outside: it POSTs
// deterministic, realistic Segment batches to /v1/batch of a leadflow on
// this machine and reports the sustained event rate, request latency and
// errors by status.
//
//	go run ./cmd/lfload --url http://127.0.0.1:8080 --write-key KEY \
//	    --events 200000 --batch 500 --concurrency 4 --seed 1
//
// It only talks to loopback addresses and stops after --events events or
// --max-time, whichever comes first.
package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"flag"
	"fmt"
	"github.com/leadflow/leadflow/internal/traffic"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"sync"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "lfload:", err)
		os.Exit(1)
	}
}

type config struct {
	url, writeKey          string
	events, batch, workers int
	seed                   uint64
	gzip                   bool
	maxTime, timeout       time.Duration
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c config
	fs := flag.NewFlagSet("lfload", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.url, "url", "http://127.0.0.1:8080", "leadflow base URL (loopback only)")
	fs.StringVar(&c.writeKey, "write-key", "", "source write key (leadflow source create)")
	fs.IntVar(&c.events, "events", 200_000, "events to send in total")
	fs.IntVar(&c.batch, "batch", 500, "events per /v1/batch request")
	fs.IntVar(&c.workers, "concurrency", 4, "requests in flight")
	fs.Uint64Var(&c.seed, "seed", 1, "payload seed: the same seed sends the same bytes")
	fs.BoolVar(&c.gzip, "gzip", false, "gzip request bodies (Content-Encoding: gzip)")
	fs.DurationVar(&c.maxTime, "max-time", 10*time.Minute, "stop sending after this long")
	fs.DurationVar(&c.timeout, "timeout", 60*time.Second, "per-request timeout")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	switch {
	case c.writeKey == "":
		return errors.New("--write-key is required")
	case c.events <= 0 || c.events > 5_000_000 || c.batch <= 0 || c.batch > 2500 || c.workers <= 0 || c.workers > 64:
		return errors.New("want --events in 1..5000000, --batch in 1..2500, --concurrency in 1..64")
	}
	target, err := loopbackURL(c.url)
	if err != nil {
		return err
	}
	c.url = target.JoinPath("v1", "batch").String()
	reqs, raw := batches(c)
	res := load(ctx, c, newClient(c), reqs, stderr)
	res.print(stdout, float64(raw)/float64(c.events))
	if res.acked == 0 || len(res.errors) > 0 {
		return fmt.Errorf("%d of %d events acknowledged", res.acked, res.sent)
	}
	return nil
}

// loopbackURL accepts only http(s) URLs whose host is a loopback address.
func loopbackURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("--url %q: want http://127.0.0.1:PORT", raw)
	}
	if h := u.Hostname(); h != "localhost" {
		if ip := net.ParseIP(h); ip == nil || !ip.IsLoopback() {
			return nil, fmt.Errorf("--url %q: refusing a non-loopback host; lfload only loads this machine", raw)
		}
	}
	return u, nil
}

// newClient returns an HTTP client that connects only to loopback
// addresses (whatever "localhost" resolves to) and follows no redirects.
func newClient(c config) *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second, ControlContext: func(_ context.Context, _, addr string, _ syscall.RawConn) error {
		host, _, err := net.SplitHostPort(addr)
		if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
			return fmt.Errorf("refusing to connect to non-loopback %s", addr)
		}
		return nil
	}}
	return &http.Client{
		Timeout:       c.timeout,
		Transport:     &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: c.workers, Proxy: nil},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

type request struct {
	body []byte // as sent (gzipped with --gzip)
	n    int    // events in it
}

type result struct {
	sent, acked int
	wire        int64 // bytes sent (after gzip)
	elapsed     time.Duration
	latencies   []time.Duration // of acknowledged requests
	errors      map[string]int  // "status 500", "transport: …" → requests
}

// batches generates every request body up front, so that neither payload
// generation nor gzip competes with the server for the CPU while measuring.
func batches(c config) ([]request, int64) {
	t := traffic.New(c.seed)
	var reqs []request
	var raw int64
	for left := c.events; left > 0; left -= c.batch {
		n := min(left, c.batch)
		body := t.Batch(nil, n)
		raw += int64(len(body))
		if c.gzip {
			body = gzipped(body)
		}
		reqs = append(reqs, request{body: body, n: n})
	}
	return reqs, raw
}

// load sends the requests from c.workers goroutines, in order, until all
// are sent or --max-time runs out, printing the rate every 5 seconds.
func load(ctx context.Context, c config, client *http.Client, reqs []request, progress io.Writer) *result {
	ctx, cancel := context.WithTimeout(ctx, c.maxTime)
	defer cancel()
	queue := make(chan request, len(reqs))
	for _, r := range reqs {
		queue <- r
	}
	close(queue)
	res := &result{errors: map[string]int{}}
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := time.Now()
	for range c.workers {
		wg.Go(func() {
			for r := range queue {
				if ctx.Err() != nil {
					return
				}
				t0 := time.Now()
				status, err := post(ctx, client, c, r.body)
				d := time.Since(t0)
				mu.Lock()
				res.sent, res.wire = res.sent+r.n, res.wire+int64(len(r.body))
				switch {
				case err != nil:
					res.errors["transport: "+err.Error()]++
				case status != http.StatusOK:
					res.errors[fmt.Sprintf("status %d", status)]++
				default:
					res.acked += r.n
					res.latencies = append(res.latencies, d)
				}
				mu.Unlock()
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
	last := 0
	for {
		select {
		case <-done:
			res.elapsed = time.Since(start)
			return res
		case now := <-tick.C:
			mu.Lock()
			acked := res.acked
			mu.Unlock()
			fmt.Fprintf(progress, "%5.0fs  %8d acknowledged  %6.0f events/s\n", now.Sub(start).Seconds(), acked, float64(acked-last)/5)
			last = acked
		}
	}
}

func post(ctx context.Context, client *http.Client, c config, body []byte) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.SetBasicAuth(c.writeKey, "")
	req.Header.Set("Content-Type", "application/json")
	if c.gzip {
		req.Header.Set("Content-Encoding", "gzip")
	}
	resp, err := client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			return 0, errors.New("stopped (max-time or interrupt)")
		}
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}

func gzipped(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write(b)
	_ = zw.Close()
	return buf.Bytes()
}

func (r *result) print(w io.Writer, perEvent float64) {
	secs := r.elapsed.Seconds()
	fmt.Fprintf(w, "events:    %d sent, %d acknowledged in %.2fs\n", r.sent, r.acked, secs)
	fmt.Fprintf(w, "rate:      %.0f events/s sustained (acknowledged / wall time)\n", float64(r.acked)/secs)
	fmt.Fprintf(w, "payload:   %.0f bytes/event, %.1f MB sent\n", perEvent, float64(r.wire)/1e6)
	if n := len(r.latencies); n > 0 {
		slices.Sort(r.latencies)
		q := func(p float64) time.Duration { return r.latencies[int(p*float64(n-1))].Round(time.Millisecond / 10) }
		fmt.Fprintf(w, "latency:   p50 %v  p90 %v  p99 %v  max %v  (%d requests)\n", q(.50), q(.90), q(.99), q(1), n)
	}
	for _, k := range slices.Sorted(maps.Keys(r.errors)) {
		fmt.Fprintf(w, "errors:    %d requests: %s\n", r.errors[k], k)
	}
	if len(r.errors) == 0 {
		fmt.Fprintln(w, "errors:    none")
	}
}
